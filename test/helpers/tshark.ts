/**
 * Dissect datagrams with tshark (Wireshark's command-line dissector) and report what it found
 * wrong: every frame is written to a temporary pcap (writeUdpPcap), read back with `tshark -V`,
 * and the verbose text is split per frame and searched for "Malformed" and expert errors.
 *
 *   const skip = peerSkip('tshark', haveTshark());
 *   const res = dissect([{ srcPort: 47809, dstPort: 47808, payload: bytes }]);
 *   assert.deepEqual(res.problems, []);
 *
 * BACnet/IP is dissected on UDP port 47808 by default; `decodeAs` adds `-d udp.port==N,bvlc`
 * for other ports.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveCommand } from './env';
import { type UdpFrame, writeUdpPcap } from './pcap';

export function haveTshark(): boolean {
  return haveCommand('tshark');
}

export interface Dissection {
  /** Verbose text of each frame, in order. */
  frames: string[];
  /** One entry per problem: "frame N (label): <line>". Empty when every frame dissected clean. */
  problems: string[];
}

const PROBLEM = /Malformed|Expert Info \(Error|\[Expert Info \(Warning\/Malformed|Dissector bug|Exception occurred/;

/**
 * Dissect `frames` (labels name them in problem reports). `decodeAs` lists extra UDP ports that
 * carry BVLC.
 */
export function dissect(frames: UdpFrame[], opts: { labels?: string[]; decodeAs?: number[] } = {}): Dissection {
  const dir = mkdtempSync(join(tmpdir(), 'fieldlink-tshark-'));
  try {
    const file = join(dir, 'frames.pcap');
    writeUdpPcap(file, frames);
    const args = ['-r', file, '-V'];
    for (const p of opts.decodeAs ?? []) args.push('-d', `udp.port==${p},bvlc`);
    const text = execFileSync('tshark', args, {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const parts = text.split(/^(?=Frame \d+: )/m).filter((s) => s.startsWith('Frame '));
    const problems: string[] = [];
    parts.forEach((part, i) => {
      for (const line of part.split('\n')) {
        if (PROBLEM.test(line)) problems.push(`frame ${i + 1}${opts.labels?.[i] ? ` (${opts.labels[i]})` : ''}: ${line.trim()}`);
      }
    });
    if (parts.length !== frames.length) problems.push(`tshark printed ${parts.length} frames for ${frames.length} written`);
    return { frames: parts, problems };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
