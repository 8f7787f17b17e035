/** Time at the edge: the server asks a clock for the time and for timers, so a simulator can supply fake ones. */

/** A pending timer. */
export interface Timer {
  cancel(): void;
}

/** Wall-clock time and timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `callback` once after `delayMs`, unless cancelled first. */
  setTimer(delayMs: number, callback: () => void): Timer;
}

/**
 * The real clock: `Date.now()` and `setTimeout`.
 *
 * @example
 * ```ts
 * import { systemClock } from "./clock.ts";
 * const timer = systemClock.setTimer(1000, () => {});
 * timer.cancel();
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, callback) {
    const id = setTimeout(callback, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(id) };
  },
};
