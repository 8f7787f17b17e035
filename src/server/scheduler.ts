/** Timers per account: when an account's features asked to run again, one clock timer for all. */

import type { Clock, Timer } from "../core/clock.ts";
import { MinHeap } from "../core/heap.ts";

interface Entry {
  at: number;
  username: string;
}

/**
 * Keeps the earliest requested run time of each account and calls `run` for each account
 * that is due, at most `concurrency` at a time. One clock timer covers the earliest.
 *
 * @example
 * ```ts
 * import { Scheduler } from "./scheduler.ts";
 * import { systemClock } from "../core/clock.ts";
 * const scheduler = new Scheduler(systemClock, async (username) => {}, 8);
 * scheduler.schedule("alice", Date.now() + 60_000);
 * scheduler.stop();
 * ```
 */
export class Scheduler {
  #clock: Clock;
  #run: (username: string) => Promise<void>;
  #concurrency: number;
  #due = new Map<string, number>();
  #heap = new MinHeap<Entry>((a, b) => a.at < b.at);
  #timer: Timer | null = null;
  #timerAt = Infinity;
  /** Accounts due, in order, from `#readyHead` on: a start makes one of every account. */
  #ready: string[] = [];
  #readyHead = 0;
  #running = 0;
  #stopped = false;
  #idle: Promise<void> = Promise.resolve();
  #settleIdle: () => void = () => {};

  constructor(clock: Clock, run: (username: string) => Promise<void>, concurrency: number) {
    this.#clock = clock;
    this.#run = run;
    this.#concurrency = concurrency;
  }

  /** Asks for a run of `username` at `at` or later; an earlier request wins. */
  schedule(username: string, at: number): void {
    if (this.#stopped) return;
    const current = this.#due.get(username);
    if (current !== undefined && current <= at) return;
    this.#due.set(username, at);
    this.#heap.push({ at, username });
    this.#arm();
  }

  /** The time an account is due, if it is scheduled. */
  dueAt(username: string): number | undefined {
    return this.#due.get(username);
  }

  /** Accounts scheduled. */
  get size(): number {
    return this.#due.size;
  }

  /** Cancels the timer; runs in progress finish, no new ones start. */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    this.#ready.length = 0;
    this.#readyHead = 0;
    return this.#running === 0 ? Promise.resolve() : this.#idle;
  }

  #arm(): void {
    const next = this.#heap.peek();
    if (next === undefined || next.at >= this.#timerAt) return;
    this.#timer?.cancel();
    this.#timerAt = next.at;
    this.#timer = this.#clock.setTimer(next.at - this.#clock.now(), () => this.#fire());
  }

  #fire(): void {
    this.#timer = null;
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    while ((this.#heap.peek()?.at ?? Infinity) <= now) {
      const entry = this.#heap.pop()!;
      if (this.#due.get(entry.username) !== entry.at) continue;
      this.#due.delete(entry.username);
      this.#ready.push(entry.username);
    }
    this.#startReady();
    this.#arm();
  }

  #startReady(): void {
    while (
      !this.#stopped && this.#running < this.#concurrency && this.#readyHead < this.#ready.length
    ) {
      // Not shift(): on an array of 50,000 it moves every element each time.
      const username = this.#ready[this.#readyHead++];
      if (this.#readyHead === this.#ready.length) this.#ready.length = this.#readyHead = 0;
      else if (this.#readyHead >= 1024 && this.#readyHead * 2 >= this.#ready.length) {
        this.#ready.splice(0, this.#readyHead);
        this.#readyHead = 0;
      }
      if (this.#running++ === 0) {
        this.#idle = new Promise((resolve) => (this.#settleIdle = resolve));
      }
      this.#run(username).finally(() => {
        if (--this.#running === 0) this.#settleIdle();
        this.#startReady();
      });
    }
  }
}
