/** Where a client keeps the last counter it used, so every request carries a greater one. */

import { writeDurable } from "../store/durable.ts";
import { DenoFileSystem } from "../store/fs.ts";

/** Hands out increasing counters and moves past one the server reports. */
export interface CounterStore {
  next(): Promise<number>;
  /** The server's last accepted counter is `lastAccepted`; continue above it. */
  recover(lastAccepted: number): Promise<void>;
}

/**
 * Counters in memory, for tests and load generators that own a fresh account.
 *
 * @example
 * ```ts
 * import { MemoryCounterStore } from "./counter_store.ts";
 * const counters = new MemoryCounterStore();
 * await counters.next(); // 1
 * await counters.recover(41);
 * await counters.next(); // 42
 * ```
 */
export class MemoryCounterStore implements CounterStore {
  #last = 0;
  next(): Promise<number> {
    return Promise.resolve(++this.#last);
  }
  recover(lastAccepted: number): Promise<void> {
    this.#last = Math.max(this.#last, lastAccepted);
    return Promise.resolve();
  }
}

/**
 * Counters in a small text file, written durably before each use so that a counter is
 * never sent twice, even across a crash of the client.
 */
export class FileCounterStore implements CounterStore {
  #path: string;
  #fs = new DenoFileSystem();

  constructor(path: string) {
    this.#path = path;
  }

  async next(): Promise<number> {
    const counter = (await this.#read()) + 1;
    await writeDurable(this.#fs, this.#path, `${counter}\n`, 0o600);
    return counter;
  }

  async recover(lastAccepted: number): Promise<void> {
    if (lastAccepted > (await this.#read())) {
      await writeDurable(this.#fs, this.#path, `${lastAccepted}\n`, 0o600);
    }
  }

  async #read(): Promise<number> {
    const bytes = await this.#fs.read(this.#path);
    if (bytes === null) return 0;
    const text = new TextDecoder().decode(bytes).trim();
    if (!/^[0-9]+$/.test(text)) throw new Error(`${this.#path} does not hold a counter`);
    return Number(text);
  }
}
