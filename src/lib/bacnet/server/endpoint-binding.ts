/**
 * Serve a BacnetServer on the stack's application-layer endpoint (endpoint.ts: one UDP socket,
 * client and server transaction state machines, segmentation, duplicate-request cache; ASHRAE
 * 135-2020 Clause 5.4). The endpoint decodes the APDUs and keeps the transactions; the server
 * answers the service data:
 *
 *  - every confirmed service of CONFIRMED_HANDLERS is registered raw: the server's SimpleACK /
 *    ComplexACK data / Error / Reject / Abort become the endpoint's reply (segmented by the
 *    endpoint when large and the client accepts it, Abort segmentation-not-supported otherwise);
 *  - every unconfirmed service of UNCONFIRMED_HANDLERS replaces the endpoint's default handling
 *    (its own Who-Is answer among them) until `unbind`;
 *  - what the server initiates (I-Am, I-Have, COV and event notifications) goes out through the
 *    endpoint; the endpoint takes its DeviceCommunicationControl state from the server's
 *    CommunicationControl (one state, nothing mirrored), so that its own filtering (16.1) and
 *    the client nodes sharing it follow the device at once, timed expiry and
 *    ReinitializeDevice included.
 */
import type { BacnetEndpoint, RequestContext } from '../endpoint';
import { BacnetAbortError, BacnetError, BacnetRejectError } from '../errors';
import { ConfirmedServiceChoice } from '../enums/services';
import type { UnconfirmedServiceName } from '../services/registry';
import type { DeviceCommunication } from '../objects/device';
import { type BacnetServer, CONFIRMED_HANDLERS, UNCONFIRMED_HANDLERS } from './server';
import type { PeerAddress, ServerNetwork } from './network';

export interface BindingOptions {
  /** APDU timeout (ms), segment timeout (ms) and retries announced by the Device object. */
  apduTimeout?: number;
  apduSegmentTimeout?: number;
  retries?: number;
  /** Max-segments-accepted announced by the Device object. */
  maxSegments?: number;
}

export interface BindingStats {
  sendFailures: number;
  lastSendError?: string;
}

/**
 * The largest service data one answer to `ctx` can carry: one APDU, or two segments when the
 * client accepts segmented responses (every client that accepts segmentation takes two).
 */
export function responseBudget(ctx: Pick<RequestContext, 'maxApdu' | 'segmentedResponseAccepted'>, canSegment: boolean): number {
  return ctx.segmentedResponseAccepted && canSegment ? 2 * (ctx.maxApdu - 5) : ctx.maxApdu - 3;
}

/** Attach `server` to `endpoint`; returns the function that detaches it again. */
export function bindServer(server: BacnetServer, endpoint: BacnetEndpoint, opts: BindingOptions = {}, stats: BindingStats = { sendFailures: 0 }): () => void {
  const failed = (e: unknown): void => {
    stats.sendFailures++;
    stats.lastSendError = e instanceof Error ? e.message : String(e);
  };
  const network: ServerNetwork = {
    sendUnconfirmed(to, service, request) {
      try {
        const p = to === 'broadcast' ? endpoint.broadcast(service, request as never) : endpoint.unconfirmedRequest(to, service, request as never);
        p.catch(failed);
      } catch (e) {
        failed(e);
      }
    },
    sendConfirmed(to, service, request) {
      return endpoint.confirmedRequest(to, service, request as never);
    },
    answerTo(source, broadcastRequest) {
      const local = broadcastRequest && source.network === undefined && source.port === endpoint.destinationPort && !endpoint.registration?.active;
      return local ? 'broadcast' : source;
    },
    async resolveDevice(instance) {
      const a = await endpoint.resolveDevice(instance);
      return a.host !== undefined ? (a as PeerAddress) : undefined;
    },
  };
  const canSegment = endpoint.segmentation === 0 || endpoint.segmentation === 1;
  const communication: Partial<DeviceCommunication> = { maxApdu: endpoint.maxApdu, segmentation: endpoint.segmentation };
  if (opts.apduTimeout !== undefined) communication.apduTimeout = opts.apduTimeout;
  if (opts.apduSegmentTimeout !== undefined) communication.apduSegmentTimeout = opts.apduSegmentTimeout;
  if (opts.retries !== undefined) communication.retries = opts.retries;
  if (opts.maxSegments !== undefined) communication.maxSegments = opts.maxSegments;
  server.setCommunication(communication);
  server.setNetwork(network);

  const removers: Array<() => void> = [];
  for (const name of Object.keys(CONFIRMED_HANDLERS)) {
    const choice = ConfirmedServiceChoice.require(name);
    removers.push(endpoint.onConfirmedRaw(choice, (data, ctx) => {
      const out = server.handleConfirmed(choice, data, { source: ctx.source, maxResponse: responseBudget(ctx, canSegment) });
      switch (out.kind) {
        case 'simple-ack': return undefined;
        case 'complex-ack': return out.data;
        case 'error': {
          const extra: ConstructorParameters<typeof BacnetError>[2] = {};
          if (out.firstFailedWriteAttempt) extra.firstFailedWriteAttempt = out.firstFailedWriteAttempt;
          if (out.firstFailedElementNumber !== undefined) extra.firstFailedElementNumber = out.firstFailedElementNumber;
          throw new BacnetError(out.errorClass, out.errorCode, extra);
        }
        case 'reject': throw new BacnetRejectError(out.reason);
        case 'abort': throw new BacnetAbortError(out.reason, false);
        default: throw new BacnetAbortError('other', false); // 'none': the endpoint's DCC filter answers nothing before this
      }
    }));
  }
  for (const name of Object.keys(UNCONFIRMED_HANDLERS) as UnconfirmedServiceName[]) {
    removers.push(endpoint.onUnconfirmed(name, (req, ctx) => server.unconfirmed(name, req, ctx.source, ctx.broadcast)));
  }
  removers.push(endpoint.useCommunicationSource(server.dcc));

  return () => {
    for (const r of removers.splice(0)) {
      try {
        r();
      } catch {
        // a remover of a closed endpoint: nothing left to undo
      }
    }
    server.setNetwork(undefined);
  };
}
