/**
 * probe-dns: one DNS query (A AAAA CNAME MX NS TXT SRV PTR) to a chosen server or the system
 * resolver, timed, with TTLs and the rcode. Logic in src/lib/probe/dns.ts.
 */
import type { Node, NodeDef, RED } from '../shared/red';
import { attachProbe, configNumber, configString, configBool, fmtMs } from '../shared/probe';
import { dnsProbe, parseServer } from '../../src/lib/probe/dns';
import { QUERY_TYPES } from '../../src/lib/probe/dns-wire';
import { natrixDnsParams } from '../../src/lib/probe/natrix';

export default function (RED: RED): void {
  function ProbeDns(this: Node, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    let rrtype: string;
    let server: string;
    let timeout: number;
    try {
      rrtype = configString(config, 'rrtype', 'A').toUpperCase();
      if (!(QUERY_TYPES as readonly string[]).includes(rrtype)) throw new Error(`record type ${rrtype} is not one of ${QUERY_TYPES.join(', ')}`);
      server = configString(config, 'server', '').trim();
      if (server) parseServer(server);
      timeout = configNumber(config, 'timeout', 5)! * 1000;
      if (!(timeout > 0)) throw new Error('timeout must be positive');
    } catch (err) {
      node.error(`probe-dns configuration: ${(err as Error).message}`);
      node.status({ fill: 'red', shape: 'ring', text: 'bad configuration' });
      return;
    }
    const nameOf = (v: unknown): string => {
      if (typeof v !== 'string' || !v.trim()) throw new Error(`the name to query must be a non-empty string (got ${v === undefined ? 'nothing' : typeof v})`);
      return v.trim();
    };
    attachProbe(RED, node, {
      protocol: 'dns',
      type: 'probe-dns',
      errorsToCatch: configBool(config, 'errorsToCatch', false),
      destination: { value: configString(config, 'query', 'localhost'), type: configString(config, 'queryType', 'str') },
      plain(dest) {
        const name = nameOf(dest);
        return { destination: name, run: (signal) => dnsProbe({ name, type: rrtype, server, timeout, signal }) };
      },
      natrix(cmd) {
        const p = natrixDnsParams(cmd.parameters);
        const name = nameOf(cmd.destination);
        if (p.server) parseServer(p.server);
        return {
          destination: name,
          run: (signal) => dnsProbe({ name, type: p.type ?? rrtype, server: p.server ?? server, timeout: p.timeout ?? timeout, signal }),
        };
      },
      status(o) {
        const d = o.data as { ips?: unknown[]; answers?: unknown[]; ptime?: number; rcode?: string; errorcode?: number };
        if (o.status === 0) return { fill: 'green', shape: 'dot', text: `${d.answers?.length ?? 0} answer(s) · ${fmtMs(d.ptime ?? -1)} ms` };
        const words: Record<number, string> = { 6: d.rcode === 'NXDOMAIN' ? 'NXDOMAIN' : 'no record', 7: 'server unreachable', 28: 'timeout', 8: 'bad answer', 3: 'bad input' };
        return { fill: 'red', shape: 'ring', text: words[d.errorcode ?? 0] ?? d.rcode ?? `error ${d.errorcode}` };
      },
    });
  }
  RED.nodes.registerType('probe-dns', ProbeDns);
}
