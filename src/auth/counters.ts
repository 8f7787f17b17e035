/** Datagram counters: strictly increasing per key and direction. */

/** Largest counter a datagram can carry. */
export const MAX_COUNTER = 0xffff_ffff;

/**
 * How many outgoing counters are reserved on disk at a time. The ceiling is stored, not
 * each counter, so a datagram costs no extra write; after a crash the sender starts above
 * the stored ceiling and at most this many numbers are skipped.
 */
export const COUNTER_RESERVATION = 1024;

/**
 * Whether a datagram's counter must be refused as a replay: it is not greater than the
 * last one accepted.
 *
 * @example
 * ```ts
 * import { isReplay } from "./counters.ts";
 * isReplay(5, 5); // true
 * isReplay(6, 5); // false
 * ```
 */
export function isReplay(counter: number, lastAccepted: number): boolean {
  return counter <= lastAccepted;
}

/** Counters handed out for one key and direction, with the ceiling stored on disk. */
export interface OutgoingCounter {
  next: number;
  ceiling: number;
}

/**
 * Takes the next outgoing counter. Returns the counter and, when the reservation is used
 * up, the new ceiling that must be durable before a datagram carrying it is sent.
 *
 * @example
 * ```ts
 * import { takeCounter } from "./counters.ts";
 * const state = { next: 1, ceiling: 0 };
 * takeCounter(state); // { counter: 1, reserve: 1024 }
 * takeCounter(state); // { counter: 2 }
 * ```
 */
export function takeCounter(state: OutgoingCounter): { counter: number; reserve?: number } {
  const counter = state.next++;
  if (counter > MAX_COUNTER) throw new RangeError("outgoing counter exhausted");
  if (counter <= state.ceiling) return { counter };
  state.ceiling = Math.min(counter + COUNTER_RESERVATION - 1, MAX_COUNTER);
  return { counter, reserve: state.ceiling };
}
