/**
 * probe-http: one HTTP(S) request on a fresh connection with phase timings (natrix period_*),
 * redirects hop by hop, TLS details and assertions. Logic in src/lib/probe/http.ts.
 */
import type { ConnectionOptions } from 'node:tls';
import type { Node, NodeDef, RED, TlsConfigNode } from '../shared/red';
import { attachProbe, configBool, configNumber, configString, fmtMs, selfTarget } from '../shared/probe';
import { httpProbe, parseStatusList, type HttpAuth, type HttpProbeOptions } from '../../src/lib/probe/http';
import { natrixHttpParams, parseHeaderParam } from '../../src/lib/probe/natrix';
import { parseFamily } from '../../src/lib/probe/common';

interface HttpCreds {
  user: string;
  password: string;
  token: string;
}

export default function (RED: RED): void {
  function ProbeHttp(this: Node<HttpCreds>, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    let base: Omit<HttpProbeOptions, 'url'>;
    try {
      const method = configString(config, 'method', 'GET').toUpperCase();
      const authType = configString(config, 'authType', 'none');
      let auth: HttpAuth | undefined;
      if (authType === 'basic') auth = { type: 'basic', user: node.credentials.user ?? '', password: node.credentials.password ?? '' };
      else if (authType === 'bearer') auth = { type: 'bearer', token: node.credentials.token ?? '' };
      const expectStatus = configString(config, 'expectStatus', '');
      if (expectStatus.trim()) parseStatusList(expectStatus);
      const bodyRegex = configString(config, 'bodyRegex', '');
      if (bodyRegex) new RegExp(bodyRegex);
      const tls: ConnectionOptions = {};
      const tlsId = configString(config, 'tls', '');
      if (tlsId) {
        const tlsNode = RED.nodes.getNode(tlsId) as TlsConfigNode | null;
        if (!tlsNode || typeof tlsNode.addTLSOptions !== 'function') throw new Error('the selected TLS configuration is missing');
        tlsNode.addTLSOptions(tls as Record<string, unknown>);
      }
      if (configBool(config, 'allowSelfSigned', false)) tls.rejectUnauthorized = false;
      const timeout = configNumber(config, 'timeout', 30)!;
      const connectTimeout = configNumber(config, 'connectTimeout', 10)!;
      const maxRedirects = configNumber(config, 'maxRedirects', 5)!;
      const headersText = configString(config, 'headers', '');
      base = {
        method,
        headers: headersText.trim() ? parseHeaderParam(headersText, 'headers') : {},
        body: configString(config, 'body', '') || undefined,
        auth,
        followRedirects: configBool(config, 'followRedirects', true),
        maxRedirects,
        timeout: timeout * 1000,
        connectTimeout: connectTimeout * 1000,
        family: parseFamily(configString(config, 'family', '0')),
        tls,
        saveHeaders: configBool(config, 'saveHeaders', false),
        saveBody: configBool(config, 'saveBody', false),
        expectStatus,
        bodyRegex: bodyRegex || undefined,
      };
      if (method === 'GET' || method === 'HEAD') delete base.body;
    } catch (err) {
      node.error(`probe-http configuration: ${(err as Error).message}`);
      node.status({ fill: 'red', shape: 'ring', text: 'bad configuration' });
      return;
    }

    const urlOf = (v: unknown): string => {
      if (typeof v !== 'string' || !v.trim()) throw new Error(`the URL must be a non-empty string (got ${v === undefined ? 'nothing' : typeof v})`);
      const u = v.trim();
      if (u.startsWith('/')) {
        // A path alone targets this Node-RED's own HTTP server (its http in endpoints).
        const self = selfTarget(RED);
        const host = self.host.includes(':') ? `[${self.host}]` : self.host;
        return `${self.scheme}://${host}:${self.port}${self.root}${u}`;
      }
      return /^[a-z][a-z0-9+.-]*:\/\//i.test(u) ? u : `http://${u}`;
    };

    attachProbe(RED, node, {
      protocol: 'http',
      type: 'probe-http',
      errorsToCatch: configBool(config, 'errorsToCatch', false),
      destination: { value: configString(config, 'url', ''), type: configString(config, 'urlType', 'str') },
      plain(dest) {
        const url = urlOf(dest);
        return { destination: url, run: (signal) => httpProbe({ ...base, url, signal }) };
      },
      natrix(cmd) {
        const p = natrixHttpParams(cmd.parameters);
        const url = urlOf(cmd.destination);
        const opts: HttpProbeOptions = {
          ...base,
          url,
          ...(p.method ? { method: p.method } : {}),
          ...(p.timeout !== undefined ? { timeout: p.timeout } : {}),
          ...(p.connectTimeout !== undefined ? { connectTimeout: p.connectTimeout } : {}),
          ...(p.followRedirects !== undefined ? { followRedirects: p.followRedirects } : {}),
          ...(p.maxRedirects !== undefined ? { maxRedirects: p.maxRedirects } : {}),
          ...(p.saveBody !== undefined ? { saveBody: p.saveBody } : {}),
          ...(p.saveHeaders !== undefined ? { saveHeaders: p.saveHeaders } : {}),
          ...(p.auth ? { auth: p.auth } : {}),
          ...(p.headers ? { headers: { ...base.headers, ...p.headers } } : {}),
          ...(p.body !== undefined ? { body: p.body } : {}),
          ...(p.localAddress ? { localAddress: p.localAddress } : {}),
          ...(p.family !== undefined ? { family: p.family } : {}),
        };
        return { destination: url, run: (signal) => httpProbe({ ...opts, signal }) };
      },
      status(o) {
        const d = o.data as { status_code?: number; total_time?: number; errorcode?: number; phase?: string };
        if (o.status === 0) return { fill: 'green', shape: 'dot', text: `${d.status_code} · ${fmtMs(d.total_time ?? -1)} ms` };
        if (d.phase === 'assertion') return { fill: 'yellow', shape: 'ring', text: `${d.status_code} · assertion failed` };
        const words: Record<number, string> = { 6: 'cannot resolve', 7: 'cannot connect', 28: 'timeout', 35: 'TLS failed', 60: 'certificate', 47: 'too many redirects', 3: 'bad URL', 1: 'bad protocol' };
        return { fill: 'red', shape: 'ring', text: `error ${d.errorcode}${words[d.errorcode ?? 0] ? ` · ${words[d.errorcode ?? 0]}` : ''}` };
      },
    });
  }
  RED.nodes.registerType('probe-http', ProbeHttp, {
    credentials: { user: { type: 'text' }, password: { type: 'password' }, token: { type: 'password' } },
  });
}
