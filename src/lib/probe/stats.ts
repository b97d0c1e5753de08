/**
 * Round-trip statistics shared by the ICMP and TCP probes, computed from the individual reply
 * times (never copied from a tool's summary line, whose format and rounding differ per platform).
 *
 * - `packet_loss` is a count (natrix), `loss_percent` the percentage.
 * - `mdev` is iputils' definition: the population standard deviation sqrt(mean(t²) − mean(t)²).
 * - `jitter` is the mean absolute difference of consecutive reply times, in arrival order
 *   (not RFC 3550's exponentially smoothed estimator).
 * - With no reply, min/avg/max are −1 (natrix) and mdev/jitter 0.
 */
import { ms3 } from './common';

export interface RttStats {
  packet_send: number;
  packet_receive: number;
  packet_loss: number;
  loss_percent: number;
  min_time: number;
  avg_time: number;
  max_time: number;
  mdev: number;
  jitter: number;
  rtts: number[];
}

export function rttStats(rtts: readonly number[], sent: number): RttStats {
  const received = rtts.length;
  const send = Math.max(sent, received);
  const loss = send - received;
  const lossPercent = send > 0 ? Math.round((loss / send) * 100_000) / 1000 : 0;
  if (received === 0) {
    return {
      packet_send: send, packet_receive: 0, packet_loss: loss, loss_percent: send > 0 ? lossPercent : 0,
      min_time: -1, avg_time: -1, max_time: -1, mdev: 0, jitter: 0, rtts: [],
    };
  }
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sum2 = 0;
  let diffs = 0;
  for (let i = 0; i < received; i++) {
    const t = rtts[i]!;
    if (t < min) min = t;
    if (t > max) max = t;
    sum += t;
    sum2 += t * t;
    if (i > 0) diffs += Math.abs(t - rtts[i - 1]!);
  }
  const avg = sum / received;
  const variance = Math.max(0, sum2 / received - avg * avg);
  return {
    packet_send: send,
    packet_receive: received,
    packet_loss: loss,
    loss_percent: lossPercent,
    min_time: ms3(min),
    avg_time: ms3(avg),
    max_time: ms3(max),
    mdev: ms3(Math.sqrt(variance)),
    jitter: received > 1 ? ms3(diffs / (received - 1)) : 0,
    rtts: rtts.map(ms3),
  };
}
