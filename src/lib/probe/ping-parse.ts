/**
 * Parser for the text output of the system `ping` (sans-I/O: text in, facts out).
 *
 * Every reply line is parsed, not only the summary. Formats understood:
 * - iputils (Linux): `64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.046 ms`, old `icmp_req=`,
 *   `(DUP!)` suffixes, header `PING host (ip) 56(84) bytes of data.` / `PING ::1(::1) 56 data bytes`;
 * - BusyBox: `64 bytes from 127.0.0.1: seq=0 ttl=64 time=1.398 ms`; minimal builds print only
 *   `HOST is alive!` or `No response from HOST`;
 * - macOS/BSD: `icmp_seq=0 ttl=64`, ping6's `16 bytes from ::1, icmp_seq=0 hlim=64 time=…`,
 *   `Request timeout for icmp_seq N`, header `PING6(56=40+8+8 bytes) src --> dst`;
 * - Windows, English and localized: a reply is a line with `<word>=<n>ms` or `<word><1ms`
 *   (no blanks around the sign, unlike the `Minimum = 0ms` summary), optionally `TTL=n`;
 *   `time<1ms` counts as 0.5 ms. The `Sent = 4, Received = 3, Lost = 1` line gives the sent count.
 *
 * The summary's "N packets transmitted" is used only for the number of requests sent (which no
 * reply line shows when packets are lost); received counts and times come from the reply lines.
 */

export interface PingReply {
  /** Sequence number as printed (iputils from 1, BusyBox/macOS from 0); null when not printed. */
  seq: number | null;
  ttl: number | null;
  /** Round-trip time in ms; null for minimal BusyBox ("is alive!"). */
  time: number | null;
  bytes: number | null;
  from: string;
  dup: boolean;
}

export interface PingParse {
  replies: PingReply[];
  /** Replies marked (DUP!) or repeating a sequence number already seen. */
  duplicates: number;
  destinationIp: string | undefined;
  /** Requests sent, from a summary line, when the tool printed one. */
  transmitted: number | undefined;
  /** Explicit per-request timeouts printed (macOS, Windows). */
  timeouts: number;
  /** Lines that were neither replies, headers, summaries nor blank. */
  other: string[];
}

export type PingFailureReason =
  | 'no-binary'
  | 'permission'
  | 'unknown-host'
  | 'unreachable'
  | 'interval'
  | 'unsupported-option'
  | 'no-reply'
  | 'unparseable'
  | 'timeout'
  | 'cancelled'
  | 'bad-input'
  | 'refused';

import { isIP } from 'node:net';

const IPV4 = /\b(\d{1,3}(?:\.\d{1,3}){3})\b/;

// Unix reply: "<n> bytes from <addr>[: |, ]... seq=<n> ... ttl|hlim=<n> ... time=<t> ms"
const UNIX_REPLY = /^(\d+) bytes from (.+?)[:,] (.*)$/;
const SEQ = /\b(?:icmp_[sr]eq|seq)=(\d+)/;
const TTL = /\b(?:ttl|hlim)=(\d+)/i;
const UNIX_TIME = /\btime[=<]\s*(\d+(?:\.\d+)?)\s*ms/;
// Windows (any language): "<word>=<n>ms" or "<word><1ms", no blanks around the sign.
const WIN_TIME = /[^\s=<:]+([=<])(\d+(?:[.,]\d+)?)ms\b/;
const WIN_TTL = /\bTTL=(\d+)/i;
const WIN_BYTES = /[^\s=]+=(\d+)\s+[^\s=<]+[=<]\d/;

export class PingOutputParser {
  private readonly seen = new Set<number>();
  private buffered = '';
  readonly result: PingParse = {
    replies: [],
    duplicates: 0,
    destinationIp: undefined,
    transmitted: undefined,
    timeouts: 0,
    other: [],
  };

  /** Feed a chunk of stdout; complete lines are parsed at once. */
  push(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      this.line(line);
    }
    // A runaway line without newline must not grow without bound.
    if (this.buffered.length > 64 * 1024) this.buffered = this.buffered.slice(-4096);
  }

  /** Parse what is left (a last line without newline). */
  end(): PingParse {
    if (this.buffered) this.line(this.buffered);
    this.buffered = '';
    return this.result;
  }

  private addReply(r: PingReply): void {
    if (r.seq !== null && this.seen.has(r.seq)) r.dup = true;
    if (r.seq !== null) this.seen.add(r.seq);
    if (r.dup) {
      this.result.duplicates++;
      return;
    }
    this.result.replies.push(r);
    if (!this.result.destinationIp) this.result.destinationIp = r.from;
  }

  line(raw: string): void {
    const line = raw.replace(/\r$/, '').trim();
    if (!line) return;
    const res = this.result;

    let m = UNIX_REPLY.exec(line);
    if (m) {
      const rest = m[3]!;
      const time = UNIX_TIME.exec(rest);
      if (time) {
        const seq = SEQ.exec(rest);
        const ttl = TTL.exec(rest);
        this.addReply({
          bytes: Number(m[1]),
          from: cleanAddress(m[2]!),
          seq: seq ? Number(seq[1]) : null,
          ttl: ttl ? Number(ttl[1]) : null,
          time: Number(time[1]),
          dup: /DUP!/.test(rest),
        });
        return;
      }
    }
    // Header lines.
    if (/^PING6\(/.test(line)) {
      const d = /-->\s*(\S+)/.exec(line);
      if (d) res.destinationIp = d[1];
      return;
    }
    m = /^PING\s+(\S+?)\s*\((.+?)\)/.exec(line);
    if (m) {
      // iputils v6 prints "PING host(name (addr))": take the innermost parenthesised address.
      const inner = /\(([^()\s]+)\)\)?\s/.exec(line);
      res.destinationIp = cleanAddress(inner ? inner[1]! : m[2]!);
      return;
    }
    // Summaries.
    m = /^(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(line);
    if (m) {
      res.transmitted = Number(m[1]);
      return;
    }
    if (/^---.*statistics ---$/.test(line) || /^(?:rtt|round-trip) /.test(line)) return;
    // BusyBox minimal.
    m = /^(\S+) is alive!$/.exec(line);
    if (m) {
      this.addReply({ bytes: null, from: m[1]!, seq: null, ttl: null, time: null, dup: false });
      res.transmitted = 1;
      return;
    }
    m = /^No response from (\S+)$/.exec(line);
    if (m) {
      res.transmitted = 1;
      res.timeouts++;
      return;
    }
    if (/^Request timeout for icmp_seq/i.test(line)) {
      res.timeouts++;
      return;
    }
    // Windows summary "Packets: Sent = 4, Received = 3, Lost = 1 (25% loss)," in any language.
    m = /^[^=]+:\s*[^=,]+=\s*(\d+),\s*[^=,]+=\s*(\d+),\s*[^=,]+=\s*(\d+)/.exec(line);
    if (m) {
      res.transmitted = Number(m[1]);
      return;
    }
    // Windows reply, any language.
    const wt = WIN_TIME.exec(line);
    if (wt && !/\s[=<]\s/.test(line)) {
      const from = IPV4.exec(line)?.[1] ?? ipv6In(line) ?? '';
      const v = Number(wt[2]!.replace(',', '.'));
      const ttl = WIN_TTL.exec(line);
      const bytes = WIN_BYTES.exec(line);
      this.addReply({
        bytes: bytes ? Number(bytes[1]) : null,
        from,
        seq: null,
        ttl: ttl ? Number(ttl[1]) : null,
        time: wt[1] === '<' ? v / 2 : v,
        dup: false,
      });
      return;
    }
    // Windows header "Pinging host [ip] with 32 bytes of data:" (or localized; IP in brackets or plain).
    if (/\b32 |\bbytes of data|Bytes Daten|octets de donn/i.test(line) && line.endsWith(':') && !res.destinationIp) {
      const br = /\[([^\]]+)\]/.exec(line);
      const ip = br ? br[1] : (IPV4.exec(line)?.[1] ?? ipv6In(line));
      if (ip) res.destinationIp = ip;
      return;
    }
    if (/^(Request timed out|Zeit.berschreitung|D.lai d.attente|Tiempo de espera)/i.test(line)) {
      res.timeouts++;
      return;
    }
    if (/^(Ping statistics|Ping-Statistik|Statistiques Ping|Approximate round trip|Ca\. Zeitangaben|Minimum\s*=)/i.test(line)) return;
    if (/^\(\d+% /.test(line)) return;
    res.other.push(line);
  }
}

function cleanAddress(s: string): string {
  // "host (1.2.3.4)" → 1.2.3.4 (when -n is not honoured); strip IPv6 zone brackets.
  const p = /\(([^()]+)\)/.exec(s);
  const a = (p ? p[1]! : s).trim();
  return a.replace(/^\[|\]$/g, '');
}

function ipv6In(line: string): string | undefined {
  const m = /(?:^|[\s[(])((?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4})(?=$|[\s\]):,])/i.exec(line);
  if (!m) return undefined;
  let a = m[1]!;
  if (a.endsWith(':') && !a.endsWith('::')) a = a.slice(0, -1);
  return isIP(a) === 6 ? a : undefined;
}

/** Parse a whole output at once. */
export function parsePingOutput(text: string): PingParse {
  const p = new PingOutputParser();
  p.push(text);
  return p.end();
}

/**
 * Classify a failure from the tool's text (stderr + stdout): the words users need ("no ping
 * binary", "permission denied", "unknown host", ...), or undefined when nothing matches.
 */
export function classifyPingError(text: string): { reason: PingFailureReason; info: string } | undefined {
  const first = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0) ?? '';
  if (/Operation not permitted|permission denied|Lacking privilege|must be root|are you root|cap_net_raw|Access denied|requires? (?:root|administrator)/i.test(text)) {
    return {
      reason: 'permission',
      info: 'ping is not permitted here (no raw-socket rights: CAP_NET_RAW, net.ipv4.ping_group_range or setuid ping); use TCP mode',
    };
  }
  if (/Name or service not known|unknown host|bad address|cannot resolve|could not find host|Temporary failure in name resolution|No address associated|nodename nor servname|Unknown host/i.test(text)) {
    return { reason: 'unknown-host', info: `unknown host: ${first}` };
  }
  if (/cannot flood|minimal interval/i.test(text)) {
    return { reason: 'interval', info: `interval too small for an unprivileged user: ${first}` };
  }
  if (/Network is unreachable|No route to host|Address family for hostname not supported|Cannot assign requested address/i.test(text)) {
    return { reason: 'unreachable', info: `unreachable: ${first}` };
  }
  if (/invalid option|unrecognized option|illegal option|invalid argument|bad (?:timing|linger|interval|wait|count|ttl|packet size)|^usage:/im.test(text)) {
    return { reason: 'unsupported-option', info: `this ping does not accept an option Fieldlink passed: ${first}` };
  }
  return undefined;
}
