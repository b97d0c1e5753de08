/**
 * Fuzz inputs for the BACnet tests: a reproducible generator, a mutator and the seed datagrams
 * (sample frames of every service and the capture vectors).
 */
import { readdirSync } from 'node:fs';
import { vectorsDir } from './env';
import { readPcap, udpPayloads } from './pcap';
import { sampleFrames } from './bacnet-samples';

/** The shared fuzz PRNG: reproducible from the printed seed. */
export { rng } from './fuzz-rng';

export function mutate(seed: Uint8Array, rnd: () => number): Uint8Array {
  let b = Uint8Array.from(seed);
  const ops = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < ops; i++) {
    const op = Math.floor(rnd() * 7);
    const at = Math.floor(rnd() * Math.max(1, b.length));
    if (op === 0 && b.length) b[at] = Math.floor(rnd() * 256);
    else if (op === 1 && b.length) b[at]! ^= 1 << Math.floor(rnd() * 8);
    else if (op === 2) b = b.subarray(0, at);
    else if (op === 3) {
      const ins = Uint8Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => Math.floor(rnd() * 256));
      const n = new Uint8Array(b.length + ins.length);
      n.set(b.subarray(0, at));
      n.set(ins, at);
      n.set(b.subarray(at), at + ins.length);
      b = n;
    } else if (op === 4 && b.length) b[at] = [0x00, 0xff, 0x0e, 0x0f, 0x3e, 0x3f, 0x05, 0xfe][Math.floor(rnd() * 8)]!;
    else if (op === 5 && b.length > 2) b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at).reverse()]);
  }
  // keep the BVLC length consistent half of the time so the fault reaches the deeper layers
  if (b.length >= 4 && rnd() < 0.5) {
    b[0] = 0x81;
    b[2] = b.length >> 8;
    b[3] = b.length & 0xff;
  }
  return b;
}

export function seeds(): Uint8Array[] {
  const out = sampleFrames().map((s) => s.bytes);
  for (const f of readdirSync(vectorsDir).filter((n) => n.startsWith('bacnet-') && n.endsWith('.pcap'))) {
    for (const p of udpPayloads(readPcap(f))) out.push(p.payload);
  }
  return out;
}

