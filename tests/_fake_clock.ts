/** A manual clock for tests: time moves only when a test advances it, and due timers fire in order. */

import type { Clock, Timer } from "../src/core/clock.ts";

interface PendingTimer {
  at: number;
  seq: number;
  callback: () => void;
}

/**
 * A {@linkcode Clock} whose timers sit in a queue until {@linkcode FakeClock.advance}
 * reaches them; nothing real is ever scheduled, so a test cannot leak a timer through it.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: PendingTimer[] = [];
  /** Every timer ever set, for tests that count them. */
  timersSet = 0;

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    const timer = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, callback };
    this.#timers.push(timer);
    this.timersSet++;
    return {
      cancel: () => {
        const i = this.#timers.indexOf(timer);
        if (i !== -1) this.#timers.splice(i, 1);
      },
    };
  }

  /** Timers set and neither fired nor cancelled. */
  get pending(): number {
    return this.#timers.length;
  }

  /** When the earliest pending timer is due. */
  get nextAt(): number | undefined {
    return this.#earliest()?.at;
  }

  /** Moves time forward by `ms`, firing each due timer at its own time, earliest first. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (let next = this.#earliest(); next && next.at <= end; next = this.#earliest()) {
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.#now = Math.max(this.#now, next.at);
      next.callback();
    }
    this.#now = end;
  }

  #earliest(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const timer of this.#timers) {
      if (!best || timer.at < best.at || (timer.at === best.at && timer.seq < best.seq)) {
        best = timer;
      }
    }
    return best;
  }
}

/** Lets every promise callback queued so far run (and those they queue), up to a macrotask. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
