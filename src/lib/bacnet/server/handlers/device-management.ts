/**
 * Remote device management as served (ASHRAE 135-2020 Clause 16): Who-Is / I-Am (16.10, range
 * limits honoured), Who-Has / I-Have (16.9, by object identifier or name, range honoured),
 * DeviceCommunicationControl (16.1), ReinitializeDevice (16.4), TimeSynchronization (16.7) and
 * UTCTimeSynchronization (16.8).
 *
 * I-Am and I-Have go where the transport says (the endpoint broadcasts the answer to a local
 * broadcast from the BACnet port and answers anything else directly to the requester).
 * DCC and ReinitializeDevice check the device password (security / password-failure); the
 * server does not restart itself: a reinitialize request is reported to the owner (the node
 * puts it on its event output). Backup and restore are not supported (services /
 * optional-functionality-not-supported).
 */
import { type WhoIsRequest, whoIsMatches } from '../../services/who-is';
import type { WhoHasRequest } from '../../services/who-has';
import type { DeviceCommunicationControlRequest, ReinitializeDeviceRequest } from '../../services/device-management';
import type { TimeSynchronizationRequest } from '../../services/time-synchronization';
import { toJsDate } from '../../codec/primitives';
import { PropertyIdentifier as P } from '../../enums/property-identifier';
import { ReinitializedState } from '../../enums/states';
import { PropertyAccessError, ServiceReject } from '../../objects/errors';
import { COMMUNICATION_STATES, passwordMatches } from '../communication-control';
import type { RequestInfo, ServiceContext } from '../context';
import type { PeerAddress } from '../network';

/** The I-Am of this device (16.10). */
export function iAmOf(ctx: ServiceContext): { deviceId: { type: number; instance: number }; maxApdu: number; segmentation: number; vendorId: number } {
  const d = ctx.db.device;
  const num = (id: number): number => {
    const v = d.read(id)[0];
    return v && (v.type === 'unsigned' || v.type === 'enumerated') ? Number(v.value) : 0;
  };
  return { deviceId: d.id, maxApdu: num(P.maxApduLengthAccepted), segmentation: num(P.segmentationSupported), vendorId: num(P.vendorIdentifier) };
}

function answerTo(ctx: ServiceContext, source: PeerAddress, broadcast: boolean): PeerAddress | 'broadcast' {
  const net = ctx.network();
  return net.answerTo ? net.answerTo(source, broadcast) : source;
}

export function whoIs(ctx: ServiceContext, req: WhoIsRequest, source: PeerAddress, broadcast = false): void {
  if (!whoIsMatches(req, ctx.db.device.id.instance)) return;
  ctx.network().sendUnconfirmed(answerTo(ctx, source, broadcast), 'i-am', iAmOf(ctx));
}

export function whoHas(ctx: ServiceContext, req: WhoHasRequest, source: PeerAddress, broadcast = false): void {
  if (!ctx.dcc.canInitiate()) return;
  const instance = ctx.db.device.id.instance;
  if (req.lowLimit !== undefined && req.highLimit !== undefined && (instance < req.lowLimit || instance > req.highLimit)) return;
  const o = req.objectId ? ctx.db.get(req.objectId) : req.objectName !== undefined ? ctx.db.getByName(req.objectName) : undefined;
  if (!o) return;
  ctx.network().sendUnconfirmed(answerTo(ctx, source, broadcast), 'i-have', { deviceId: ctx.db.device.id, objectId: o.id, objectName: o.name });
}

function checkPassword(ctx: ServiceContext, given: string | undefined): void {
  if (!passwordMatches(ctx.rules.password, given)) throw new PropertyAccessError('security', 'password-failure');
}

export function deviceCommunicationControl(ctx: ServiceContext, req: DeviceCommunicationControlRequest, info: RequestInfo): void {
  const state = COMMUNICATION_STATES[req.enableDisable];
  if (!state) throw new ServiceReject('undefined-enumeration', `enable-disable ${req.enableDisable}`);
  checkPassword(ctx, req.password);
  ctx.dcc.set(state, req.timeDuration);
  ctx.events({ type: 'dcc', state, ...(req.timeDuration !== undefined ? { durationMinutes: req.timeDuration } : {}), source: info.source });
}

const RESTARTS = new Set<number>([ReinitializedState.coldstart, ReinitializedState.warmstart, ReinitializedState.activateChanges]);

export function reinitializeDevice(ctx: ServiceContext, req: ReinitializeDeviceRequest, info: RequestInfo): void {
  const name = ReinitializedState.nameOf(req.state);
  if (name === undefined) throw new ServiceReject('undefined-enumeration', `reinitialized state ${req.state}`);
  checkPassword(ctx, req.password);
  if (!RESTARTS.has(req.state)) throw new PropertyAccessError('services', 'optional-functionality-not-supported', `${name} is not supported`);
  // A (simulated) restart ends a communication disable (16.1); the owner hears of it like of a DCC.
  if (req.state !== ReinitializedState.activateChanges && ctx.dcc.state !== 'enable') {
    ctx.dcc.set('enable');
    ctx.events({ type: 'dcc', state: 'enable', source: info.source });
  }
  ctx.events({ type: 'reinitialize', state: name, source: info.source });
}

export function timeSynchronization(ctx: ServiceContext, req: TimeSynchronizationRequest, source: PeerAddress, utc: boolean): void {
  if (!ctx.rules.acceptTimeSync) return;
  const { date, time } = req.time;
  let t: number | undefined;
  if (utc) {
    if (date.year !== 255 && date.month >= 1 && date.month <= 12 && date.day >= 1 && date.day <= 31 && time.hour !== 255 && time.minute !== 255) {
      t = Date.UTC(date.year, date.month - 1, date.day, time.hour, time.minute, time.second === 255 ? 0 : time.second, time.hundredths === 255 ? 0 : time.hundredths * 10);
    }
  } else {
    t = toJsDate(date, time)?.getTime();
  }
  if (t === undefined || Number.isNaN(t)) return;
  ctx.db.setTime(t);
  ctx.schedules.evaluateAll();
  ctx.trendLogs.configureAll();
  ctx.events({ type: 'time-sync', time: new Date(t), utc, source });
}
