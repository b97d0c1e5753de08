/**
 * Timers for delays of any length. Node's setTimeout holds at most 2^31-1 ms (about 24.8 days)
 * and runs a longer delay after 1 ms instead (with a TimeoutOverflowWarning); BACnet has longer
 * ones: a DeviceCommunicationControl duration is up to 65535 minutes (45.5 days), a minimum
 * on/off time up to 2^32-1 seconds. Such waits are chained in steps of the largest delay.
 */

/** The longest delay one setTimeout holds, ms. */
export const MAX_TIMEOUT = 0x7fffffff;

export interface LongTimer {
  cancel(): void;
}

/**
 * Run `fn` after `ms` (NaN or negative: at once; Infinity: never). The timer is unref'd: it does
 * not keep the process alive.
 */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  let left = ms > 0 ? ms : 0;
  let handle: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    const step = Math.min(left, MAX_TIMEOUT);
    left -= step;
    handle = setTimeout(() => {
      if (left > 0) arm();
      else fn();
    }, step);
    handle.unref?.();
  };
  arm();
  return {
    cancel: () => {
      if (handle !== undefined) clearTimeout(handle);
      handle = undefined;
      left = 0;
    },
  };
}
