/**
 * One BACnet/IP endpoint shared by every user of a network configuration (ASHRAE 135-2020 Annex J:
 * a B/IP device has one UDP port; every node on that interface speaks through it). Reference
 * counted: the socket opens when the first user acquires it and closes when the last one releases
 * it (or when the owner closes it, on redeploy). Users follow its status: opening, open (with
 * the bound address), or the error that stops it, in words (a port in use names the fix).
 *
 * No Node-RED import: the bacnet-network config node wraps this.
 */
import { BacnetEndpoint, type BacnetEndpointOptions } from './endpoint';
import type { UdpTransport } from './transport';
import { errorText } from '../wire/errors';

export type SharedEndpointState = 'closed' | 'opening' | 'open' | 'error';

export interface SharedEndpointStatus {
  state: SharedEndpointState;
  /** Short text for node status ('127.0.0.1:47808', 'UDP port 47808 ... in use ...'). */
  text: string;
  error?: Error;
  /** Bound address when open. */
  local?: { host: string; port: number };
  broadcastAddress?: string;
  /** A problem that does not stop the endpoint (broadcasts cannot be received, ...). */
  warning?: string;
}

export type StatusListener = (s: SharedEndpointStatus) => void;

export class SharedEndpoint {
  readonly options: BacnetEndpointOptions;
  readonly #open: (o: BacnetEndpointOptions) => Promise<BacnetEndpoint>;
  readonly #users = new Set<string>();
  readonly #listeners = new Set<StatusListener>();
  #endpoint: BacnetEndpoint | undefined;
  #opening: Promise<BacnetEndpoint> | undefined;
  #closing: Promise<void> | undefined;
  #status: SharedEndpointStatus = { state: 'closed', text: 'closed' };
  #disposed = false;

  constructor(options: BacnetEndpointOptions, open: (o: BacnetEndpointOptions) => Promise<BacnetEndpoint> = (o) => BacnetEndpoint.open(o)) {
    this.options = options;
    this.#open = open;
  }

  get status(): SharedEndpointStatus {
    return this.#status;
  }

  /** The open endpoint, if any. */
  get endpoint(): BacnetEndpoint | undefined {
    return this.#endpoint;
  }

  get users(): number {
    return this.#users.size;
  }

  /** Follow status changes; the current status is delivered at once. Returns the unsubscribe function. */
  onStatus(l: StatusListener): () => void {
    this.#listeners.add(l);
    this.#safe(l, this.#status);
    return () => void this.#listeners.delete(l);
  }

  #safe(l: StatusListener, s: SharedEndpointStatus): void {
    try {
      l(s);
    } catch {
      // a listener's fault is its own
    }
  }

  #set(s: SharedEndpointStatus): void {
    this.#status = s;
    for (const l of [...this.#listeners]) this.#safe(l, s);
  }

  /** Add a user; opens the endpoint on the first. Rejects (and reports the status) when it cannot open. */
  acquire(user: string): Promise<BacnetEndpoint> {
    if (this.#disposed) return Promise.reject(new Error('the BACnet network configuration was closed'));
    this.#users.add(user);
    if (this.#endpoint) return Promise.resolve(this.#endpoint);
    if (this.#opening) return this.#opening;
    this.#set({ state: 'opening', text: 'opening' });
    const opening = (async (): Promise<BacnetEndpoint> => {
      if (this.#closing) await this.#closing;
      let ep: BacnetEndpoint;
      try {
        ep = await this.#open(this.options);
      } catch (e) {
        const error = e instanceof Error ? e : new Error(errorText(e));
        this.#set({ state: 'error', text: error.message, error });
        throw error;
      } finally {
        this.#opening = undefined;
      }
      if (this.#disposed || this.#users.size === 0) {
        await ep.close();
        this.#set({ state: 'closed', text: 'closed' });
        throw new Error('the BACnet network configuration was closed while opening');
      }
      this.#endpoint = ep;
      const t = ep.transport as Partial<UdpTransport>;
      const status: SharedEndpointStatus = {
        state: 'open',
        text: `${ep.transport.local.host}:${ep.transport.local.port}`,
        local: { ...ep.transport.local },
        broadcastAddress: ep.transport.broadcastAddress,
      };
      if (t.broadcastWarning) status.warning = t.broadcastWarning;
      this.#set(status);
      return ep;
    })();
    this.#opening = opening;
    return opening;
  }

  /** Remove a user; the endpoint closes when the last one leaves. */
  async release(user: string): Promise<void> {
    this.#users.delete(user);
    if (this.#users.size > 0) return;
    await this.#shut();
  }

  /** Close whatever the users say (the owner closes: redeploy, shutdown). */
  async close(): Promise<void> {
    this.#disposed = true;
    this.#users.clear();
    if (this.#opening) await this.#opening.catch(() => undefined);
    await this.#shut();
    this.#listeners.clear();
  }

  async #shut(): Promise<void> {
    const ep = this.#endpoint;
    if (!ep) return;
    this.#endpoint = undefined;
    this.#closing = ep.close().catch(() => undefined);
    await this.#closing;
    this.#closing = undefined;
    this.#set({ state: 'closed', text: 'closed' });
  }
}
