/**
 * The server's UDP side without sockets: answering search datagrams, the beacon schedule, and
 * address-list parsing (`host[:port]` items separated by blanks or commas).
 */
import { CA_MINOR_VERSION, MAX_UDP_SEND, SearchReply } from './constants';
import { LocalProtocolError } from './errors';
import { decodeRequestDatagram, packDatagrams } from './datagram';
import { encodeNotFound, encodeSearchResponse, encodeUdpVersion } from './messages';


export interface SearchAnswerOptions {
  /** Our TCP port (goes in every reply). */
  tcpPort: number;
  /** Our IPv4 address as u32 for the reply, or 0xFFFFFFFF = "use the datagram's source" (default). */
  serverIp?: number;
  /** Whether names we do not serve get NOT_FOUND when the search asks for it (DO_REPLY). */
  replyNotFound: boolean;
  /** Whether we serve `name`. */
  has(name: string): boolean;
  maxSize?: number;
}

export interface SearchAnswer {
  /** Datagrams to send back to the searcher (none when no name is ours). */
  replies: Uint8Array[];
  /** SEARCH requests in the datagram. */
  searched: number;
  /** Names we serve among them. */
  found: number;
}

/**
 * Answer one search datagram: VERSION (echoing the sequence number) then a SEARCH reply for each
 * name we serve, and NOT_FOUND for the others when asked (DO_REPLY) and enabled. Throws
 * DecodeError for a malformed datagram (drop it). Other commands in the datagram are ignored.
 */
export function answerSearchDatagram(bytes: Uint8Array, opts: SearchAnswerOptions): SearchAnswer {
  const msgs = decodeRequestDatagram(bytes);
  let sequence: number | undefined;
  let searched = 0;
  let found = 0;
  const out: Uint8Array[] = [];
  for (const m of msgs) {
    if (m.kind === 'Version') {
      if (m.sequence !== undefined) sequence = m.sequence;
    } else if (m.kind === 'SearchRequest') {
      searched++;
      if (opts.has(m.name)) {
        found++;
        out.push(encodeSearchResponse({ port: opts.tcpPort, cid: m.cid, serverIp: opts.serverIp ?? 0xffffffff, minorVersion: CA_MINOR_VERSION, udp: true }));
      } else if (opts.replyNotFound && m.reply === SearchReply.DO_REPLY) {
        out.push(encodeNotFound({ cid: m.cid, minorVersion: m.minorVersion }));
      }
    }
  }
  const replies = out.length
    ? packDatagrams(out, () => encodeUdpVersion({ minorVersion: CA_MINOR_VERSION, ...(sequence !== undefined ? { sequence } : {}) }), opts.maxSize ?? MAX_UDP_SEND)
    : [];
  return { replies, searched, found };
}

/**
 * Beacon intervals: the first beacon at once, then 20 ms, doubling after each beacon up to the
 * period (15 s), as the CA specification recommends.
 */
export class BeaconSchedule {
  readonly initialMs: number;
  readonly periodMs: number;
  #next: number;

  constructor(initialMs = 20, periodMs = 15_000) {
    if (!(initialMs > 0) || !(periodMs >= initialMs)) throw new LocalProtocolError('beacon intervals must be positive, the period no shorter than the first interval');
    this.initialMs = initialMs;
    this.periodMs = periodMs;
    this.#next = initialMs;
  }

  /** Delay before the beacon after the one just sent. */
  next(): number {
    const d = this.#next;
    this.#next = Math.min(this.#next * 2, this.periodMs);
    return d;
  }

  /** Start again from the first interval (e.g. after a network change). */
  reset(): void {
    this.#next = this.initialMs;
  }
}

export interface Endpoint {
  host: string;
  port: number;
}

/**
 * Parse an address list such as `EPICS_CA_ADDR_LIST` or a beacon list: `host[:port]` entries
 * separated by blanks or commas; `defaultPort` where none is given. Throws LocalProtocolError on
 * a bad entry.
 */
export function parseAddressList(text: string | readonly string[] | undefined, defaultPort: number): Endpoint[] {
  if (text === undefined) return [];
  const items = (typeof text === 'string' ? text.split(/[\s,]+/) : text.flatMap((t) => t.split(/[\s,]+/))).filter(Boolean);
  return items.map((item) => {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+)(?::(\d+))?$/.exec(item);
    if (!m) throw new LocalProtocolError(`bad address '${item}' (expected host[:port])`);
    const port = m[2] === undefined ? defaultPort : Number(m[2]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new LocalProtocolError(`bad port in '${item}'`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  });
}
