/**
 * The slice of the Node-RED runtime API that Fieldlink's nodes use, typed strictly.
 *
 * Node-RED ships no TypeScript types of its own and the community ones lag behind; this file
 * describes exactly what we call (Node-RED 4.1 and 5.0 runtime), so `nodes/` compiles under
 * `strict` without `any`.
 */

/** A message flowing through a flow. Any extra property is allowed. */
export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

/** What `send` accepts: one msg, or one entry per output (each a msg, an array of msgs or null). */
export type SendArg = NodeMessage | null | Array<NodeMessage | NodeMessage[] | null>;
export type SendFn = (msg: SendArg) => void;
export type DoneFn = (err?: Error) => void;
export type InputHandler = (msg: NodeMessage, send: SendFn, done: DoneFn) => void;
export type CloseHandler = (removed: boolean, done: () => void) => void;

export interface ContextStore {
  get(key: string, store?: string): unknown;
  get(key: string, store: string | undefined, cb: (err: Error | null, value: unknown) => void): void;
  set(key: string, value: unknown, store?: string): void;
  set(key: string, value: unknown, store: string | undefined, cb: (err: Error | null) => void): void;
  keys(store?: string): string[];
}

export interface NodeContext extends ContextStore {
  flow: ContextStore;
  global: ContextStore;
}

/** A runtime node instance, after `RED.nodes.createNode(this, config)`. */
export interface Node<TCreds extends object = Record<string, string | undefined>> {
  readonly id: string;
  readonly type: string;
  readonly z?: string;
  name?: string;
  credentials: Partial<TCreds>;
  on(event: 'input', handler: InputHandler): void;
  on(event: 'close', handler: CloseHandler): void;
  send(msg: SendArg): void;
  status(status: NodeStatus | Record<string, never>): void;
  log(msg: unknown): void;
  warn(msg: unknown): void;
  /** With a msg, the error reaches Catch nodes. */
  error(msg: unknown, triggeringMsg?: NodeMessage): void;
  debug(msg: unknown): void;
  trace(msg: unknown): void;
  context(): NodeContext;
}

/** Configuration object handed to a node constructor: the node's saved properties. */
export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

export interface NodeConstructor<TNode> {
  (this: TNode, config: NodeDef): void;
}

export interface CredentialsDef {
  [name: string]: { type: 'text' | 'password' };
}

export interface RegisterOptions {
  credentials?: CredentialsDef;
  settings?: Record<string, { value: unknown; exportable?: boolean }>;
}

/** Minimal Express-like request/response used by admin endpoints. */
export interface AdminRequest {
  params: Record<string, string>;
  query: Record<string, string | string[] | undefined>;
  body?: unknown;
}

export interface AdminResponse {
  status(code: number): AdminResponse;
  json(body: unknown): void;
  send(body?: unknown): void;
  sendStatus(code: number): void;
}

export type AdminHandler = (req: AdminRequest, res: AdminResponse) => void;
export type Middleware = (req: AdminRequest, res: AdminResponse, next: () => void) => void;

export interface AdminApp {
  get(path: string, ...handlers: Array<Middleware | AdminHandler>): void;
  post(path: string, ...handlers: Array<Middleware | AdminHandler>): void;
}

export interface TlsConfigNode {
  addTLSOptions(opts: Record<string, unknown>): void;
}

export interface RED {
  nodes: {
    createNode(node: object, config: NodeDef): void;
    registerType<TNode>(type: string, ctor: NodeConstructor<TNode>, opts?: RegisterOptions): void;
    getNode(id: string): unknown;
  };
  util: {
    cloneMessage<T extends NodeMessage>(msg: T): T;
    getMessageProperty(msg: NodeMessage, expr: string): unknown;
    setMessageProperty(msg: NodeMessage, expr: string, value: unknown, createMissing?: boolean): boolean;
    evaluateNodeProperty(
      value: string,
      type: string,
      node: object,
      msg: NodeMessage | null,
      callback?: (err: Error | null, result: unknown) => void,
    ): unknown;
  };
  httpAdmin: AdminApp;
  auth: { needsPermission(permission: string): Middleware };
  settings: Record<string, unknown> & { userDir?: string };
  log: {
    info(msg: unknown): void;
    warn(msg: unknown): void;
    error(msg: unknown): void;
    debug(msg: unknown): void;
  };
  _: (key: string, substitutions?: Record<string, unknown>) => string;
  version?: () => string;
}

// ---------------------------------------------------------------------------------------------
// Reading config and msg fields

/** A field as text ('' or `dflt` when absent). */
export function str(v: unknown, dflt = ''): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? dflt : String(v);
}

/** A whole number min..max, undefined when the field is empty; throws in words. */
export function optInt(v: unknown, min: number, max: number, what: string): number | undefined {
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${what} must be a whole number ${min}..${max}, not '${String(v)}'`);
  return n;
}

/** A whole number min..max, `dflt` when the field is empty; throws in words. */
export function int(v: unknown, dflt: number, min: number, max: number, what: string): number {
  return optInt(v, min, max, what) ?? dflt;
}
