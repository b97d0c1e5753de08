/**
 * One BacnetClient per endpoint: everything speaking through one network shares one scheduler,
 * one set of poll groups and one COV manager (notes §3.3 rule 1), whoever asks first creates it.
 * The client is forgotten with its endpoint (a WeakMap); users that close call `client.close()`
 * only when they own the endpoint.
 */
import type { BacnetEndpoint } from '../endpoint';
import { BacnetClient, type ClientOptions } from './client';

const clients = new WeakMap<BacnetEndpoint, BacnetClient>();

/** The endpoint's shared client (created with `opts` on first use; later options are ignored). */
export function clientFor(endpoint: BacnetEndpoint, opts: ClientOptions = {}): BacnetClient {
  let c = clients.get(endpoint);
  if (!c || c.closed) {
    c = new BacnetClient(endpoint, opts);
    clients.set(endpoint, c);
  }
  return c;
}
