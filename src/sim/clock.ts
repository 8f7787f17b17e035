/** Simulated time: one queue of events for the whole simulated world, run in order. */

import type { Clock, Timer } from "../core/clock.ts";

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
  #heap: Event[] = [];

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
    this.#push(event);
    return { cancel: () => event.cancelled = true };
  }

  /** The time of the next event, or undefined if none is left. */
  get nextAt(): number | undefined {
    this.#dropCancelled();
    return this.#heap[0]?.at;
  }

  /** Events waiting, cancelled ones included. */
  get pending(): number {
    return this.#heap.length;
  }

  /** Moves time to the next event and runs it; false if there was none. */
  step(): boolean {
    this.#dropCancelled();
    const event = this.#pop();
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
    while (this.#heap.length > 0 && this.#heap[0].cancelled) this.#pop();
  }

  #push(event: Event): void {
    const heap = this.#heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  #pop(): Event | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1, right = left + 1;
        let least = i;
        if (left < heap.length && before(heap[left], heap[least])) least = left;
        if (right < heap.length && before(heap[right], heap[least])) least = right;
        if (least === i) break;
        [heap[i], heap[least]] = [heap[least], heap[i]];
        i = least;
      }
    }
    return top;
  }
}

function before(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
