/** Simulated time: one queue of events for the whole simulated world, run in order. */

import type { Clock, Timer } from "../core/clock.ts";
import { MinHeap } from "../core/heap.ts";

interface Event {
  at: number;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

/**
 * The simulator's clock. Time moves only when {@linkcode SimClock.step} runs the next
 * event; events at the same time run in the order they were scheduled, so a run is fixed
 * by what was scheduled, never by the machine.
 *
 * @example
 * ```ts
 * import { SimClock } from "./clock.ts";
 * const clock = new SimClock(1_000);
 * let fired = 0;
 * clock.setTimer(50, () => fired = clock.now());
 * clock.step();
 * fired; // 1050
 * ```
 */
export class SimClock implements Clock {
  #now: number;
  #seq = 0;
  #heap = new MinHeap<Event>(before);

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    const event: Event = {
      at: this.#now + Math.max(0, delayMs),
      seq: this.#seq++,
      run: callback,
      cancelled: false,
    };
    this.#heap.push(event);
    return { cancel: () => event.cancelled = true };
  }

  /** The time of the next event, or undefined if none is left. */
  get nextAt(): number | undefined {
    this.#dropCancelled();
    return this.#heap.peek()?.at;
  }

  /** Events waiting, cancelled ones included. */
  get pending(): number {
    return this.#heap.size;
  }

  /** Moves time to the next event and runs it; false if there was none. */
  step(): boolean {
    this.#dropCancelled();
    const event = this.#heap.pop();
    if (event === undefined) return false;
    this.#now = event.at;
    event.run();
    return true;
  }

  /**
   * A clock for one life of a server: the same time, but every timer it set is cancelled
   * by `stop()`, as a crash ends a process's timers.
   */
  life(): Clock & { stop(): void } {
    const timers = new Set<Timer>();
    let stopped = false;
    return {
      now: () => this.now(),
      setTimer: (delayMs, callback) => {
        if (stopped) return { cancel: () => {} };
        const timer: Timer = this.setTimer(delayMs, () => {
          timers.delete(timer);
          callback();
        });
        timers.add(timer);
        return {
          cancel: () => {
            timers.delete(timer);
            timer.cancel();
          },
        };
      },
      stop: () => {
        stopped = true;
        for (const timer of timers) timer.cancel();
        timers.clear();
      },
    };
  }

  #dropCancelled(): void {
    while (this.#heap.peek()?.cancelled) this.#heap.pop();
  }
}

function before(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
