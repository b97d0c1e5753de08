/**
 * probe-ping: ICMP echo through the system ping, or TCP connect timing (mode "tcp"), with loss,
 * min/avg/max, mdev and jitter. Logic in src/lib/probe (ping.ts, tcp.ts); this file is glue.
 */
import type { Node, NodeDef, RED } from '../shared/red';
import { attachProbe, configBool, configNumber, configString, fmtMs, selfTarget, type ProbeOutcome } from '../shared/probe';
import { PingRunner, resolvePingOptions, type PingOptions } from '../../src/lib/probe/ping';
import { tcpPing, type TcpPingOptions } from '../../src/lib/probe/tcp';
import { natrixPingParams } from '../../src/lib/probe/natrix';
import { parseFamily, validateHost, type Family } from '../../src/lib/probe/common';

const SHORT: Record<string, string> = {
  'no-binary': 'no ping binary',
  permission: 'permission denied',
  'unknown-host': 'unknown host',
  unreachable: 'unreachable',
  interval: 'interval too small',
  'unsupported-option': 'ping option refused',
  'no-reply': 'no reply',
  refused: 'port closed',
  timeout: 'timeout',
  unparseable: 'unreadable output',
  'bad-input': 'bad input',
  cancelled: 'cancelled',
};

interface PingSettings {
  mode: 'icmp' | 'tcp';
  port: number | undefined;
  family: Family;
  count: number | undefined;
  interval: number | undefined;
  timeout: number | undefined;
  deadline: number | undefined;
  size: number | undefined;
  ttl: number | undefined;
  iface: string;
  acceptRefused: boolean;
}

export default function (RED: RED): void {
  function ProbePing(this: Node, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    let s: PingSettings;
    try {
      const mode = configString(config, 'mode', 'icmp') === 'tcp' ? 'tcp' : 'icmp';
      s = {
        mode,
        // "self" = the port of this Node-RED's own HTTP server (loopback demos, self-checks).
        port: configString(config, 'port').trim().toLowerCase() === 'self' ? selfTarget(RED).port : configNumber(config, 'port', undefined),
        family: parseFamily(configString(config, 'family', '0')),
        count: configNumber(config, 'count', 3),
        interval: configNumber(config, 'interval', 1),
        timeout: configNumber(config, 'timeout', 2),
        deadline: configNumber(config, 'deadline', undefined),
        size: configNumber(config, 'size', 56),
        ttl: configNumber(config, 'ttl', undefined),
        iface: configString(config, 'iface'),
        acceptRefused: configBool(config, 'acceptRefused', false),
      };
      if (mode === 'tcp' && (s.port === undefined || !Number.isInteger(s.port) || s.port < 1 || s.port > 65535)) {
        throw new Error('TCP mode needs a port (1..65535)');
      }
      if (mode === 'icmp') resolvePingOptions({ host: '127.0.0.1', count: s.count, interval: s.interval, timeout: s.timeout, deadline: s.deadline, size: s.size, ttl: s.ttl, iface: s.iface });
    } catch (err) {
      node.error(`probe-ping configuration: ${(err as Error).message}`);
      node.status({ fill: 'red', shape: 'ring', text: 'bad configuration' });
      return;
    }
    const settingCommand = RED.settings.probePingCommand;
    const command = typeof settingCommand === 'string' && settingCommand.trim() ? settingCommand.trim().split(/\s+/) : undefined;
    const runner = new PingRunner(16);

    const probe = (host: string, p: PingSettings): { destination: string; run(signal: AbortSignal): Promise<ProbeOutcome> } => {
      if (p.mode === 'tcp') {
        const opts: TcpPingOptions = {
          host, port: p.port ?? NaN, family: p.family, count: p.count, interval: p.interval, timeout: p.timeout,
          acceptRefused: p.acceptRefused, ...(p.iface ? { localAddress: p.iface } : {}),
        };
        return { destination: host, run: (signal) => tcpPing({ ...opts, signal }) };
      }
      const opts: PingOptions = {
        host, family: p.family, count: p.count, interval: p.interval, timeout: p.timeout, deadline: p.deadline,
        size: p.size, ttl: p.ttl, iface: p.iface || undefined, ...(command ? { command } : {}),
      };
      resolvePingOptions(opts); // throws on bad input before anything runs
      return { destination: host, run: () => runner.run(opts) };
    };

    attachProbe(RED, node, {
      protocol: 'ping',
      type: 'probe-ping',
      errorsToCatch: configBool(config, 'errorsToCatch', false),
      destination: { value: configString(config, 'destination', '127.0.0.1'), type: configString(config, 'destinationType', 'str') },
      plain(dest) {
        return probe(validateHost(dest), s);
      },
      natrix(cmd) {
        const p = natrixPingParams(cmd.parameters);
        const merged: PingSettings = {
          ...s,
          mode: p.mode ?? s.mode,
          port: p.port ?? s.port,
          family: p.family ?? s.family,
          count: p.count ?? s.count,
          timeout: p.timeout ?? s.timeout,
          interval: p.interval ?? s.interval,
          deadline: p.deadline,
          size: p.size ?? s.size,
          ttl: p.ttl ?? s.ttl,
          iface: p.iface ?? s.iface,
        };
        if (merged.mode === 'tcp' && merged.port === undefined) throw new Error('TCP mode needs parameters.port');
        return probe(validateHost(cmd.destination), merged);
      },
      status(o) {
        const d = o.data as { avg_time?: number; loss_percent?: number; reason?: string };
        if (o.status === 0) {
          return { fill: d.loss_percent ? 'yellow' : 'green', shape: 'dot', text: `${fmtMs(d.avg_time ?? -1)} ms · ${d.loss_percent ?? 0}% loss` };
        }
        return { fill: 'red', shape: 'ring', text: SHORT[d.reason ?? ''] ?? 'failed' };
      },
      close() {
        runner.killAll();
      },
    });
  }
  RED.nodes.registerType('probe-ping', ProbePing, {
    // settings.js: probePingCommand: 'busybox ping' runs another ping implementation.
    settings: { probePingCommand: { value: '', exportable: false } },
  });
}
