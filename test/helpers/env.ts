/**
 * Test environment helpers: repository paths, peer availability, fuzz budgets.
 *
 * Interop tests need independent peers (tshark, curl, ping, pyepics, Chromium, npm packages).
 * When one is missing the test says so loudly and skips, unless FIELDLINK_REQUIRE_PEERS=1 (set by
 * .ci/run), where a missing peer is a failure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Root of the compiled tree this test runs from (dist/, or $FIELDLINK_DIST). */
export const distRoot = resolve(__dirname, '..', '..');
/** Repository root (tests run from dist/test/..., sources and fixtures live in the repo). */
export const repoRoot = resolve(distRoot, '..');
/** Wire captures of independent implementations (copied from the team's shared vectors; see its README). */
export const vectorsDir = join(repoRoot, 'test', 'vectors');

export const requirePeers = process.env.FIELDLINK_REQUIRE_PEERS === '1';
export const fuzzFull = process.env.FIELDLINK_FUZZ_FULL === '1';

/** True if `cmd` is an executable on PATH (or an absolute path that exists). */
export function haveCommand(cmd: string): boolean {
  if (cmd.startsWith('/')) return existsSync(cmd);
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Skip reason for a test that needs a peer, or undefined when the peer is there.
 * Under FIELDLINK_REQUIRE_PEERS=1 a missing peer throws, failing the test file.
 */
export function peerSkip(peer: string, available: boolean): string | undefined {
  if (available) return undefined;
  const text = `PEER MISSING: ${peer} is not installed; interop test skipped`;
  if (requirePeers) throw new Error(`${text} (FIELDLINK_REQUIRE_PEERS=1)`);
  console.warn(`\n*** ${text} ***\n`);
  return text;
}

/** Iteration count for fuzz loops: `full` under `npm run fuzz`, `bounded` in `npm test`. */
export function fuzzIterations(bounded: number, full = 1_000_000): number {
  return fuzzFull ? full : bounded;
}
