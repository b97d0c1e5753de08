/**
 * Helper process for netns-broadcast.test.ts, run inside a network namespace with
 * `ip netns exec <ns> node netns-node.js <role> <json options>`:
 *   serve:  a device (instance, bind mode from the options) answering ReadProperty; prints "ready"
 *   whois:  Who-Is by broadcast, then ReadProperty of the found device; prints one JSON line
 */
import { BacnetEndpoint, type BacnetEndpointOptions } from '../../../src/lib/bacnet/endpoint';
import { Value } from '../../../src/lib/bacnet/codec/values';

async function main(): Promise<void> {
  const [role, json] = process.argv.slice(2);
  const opts = JSON.parse(json ?? '{}') as BacnetEndpointOptions & { instance?: number };
  if (role === 'serve') {
    const ep = await BacnetEndpoint.open({ ...opts, device: { instance: opts.instance ?? 4321 } });
    ep.onConfirmed('read-property', (req) => ({ ...req, value: [Value.characterString(`device ${opts.instance ?? 4321} ${ep.transport.local.host}`)] }));
    process.stdout.write(`ready ${JSON.stringify({ local: ep.transport.local, broadcast: ep.transport.broadcastAddress })}\n`);
    process.stdin.resume();
    process.stdin.on('end', () => void ep.close().then(() => process.exit(0)));
    return;
  }
  const ep = await BacnetEndpoint.open(opts);
  const found = await ep.whoIs({ timeout: 1500 });
  const out: Record<string, unknown> = {
    local: ep.transport.local, broadcast: ep.transport.broadcastAddress,
    warning: (ep.transport as { broadcastWarning?: string }).broadcastWarning ?? null,
    found: found.map((d) => ({ instance: d.instance, host: d.address.host, port: d.address.port })),
  };
  if (found[0]) {
    const ack = await ep.confirmedRequest(found[0].instance, 'read-property', { objectId: { type: 8, instance: found[0].instance }, propertyId: 77 });
    out.name = ack.value[0]?.type === 'character-string' ? ack.value[0].value : null;
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  await ep.close();
}

main().catch((e: unknown) => {
  process.stdout.write(`${JSON.stringify({ error: String(e) })}\n`);
  process.exit(1);
});
