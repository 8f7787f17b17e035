/** A change set being built: reads see the store plus this change set's own writes. */

import type { ChangeSet } from "./journal.ts";
import { layChange } from "./overlay.ts";
import type { Store } from "./store.ts";

/**
 * Reads and writes of one handler run. Nothing reaches the store until the dispatcher
 * commits {@linkcode Tx.changes}, so a handler that fails changes nothing.
 *
 * @example
 * ```ts
 * import { MemoryFileSystem } from "./memory_fs.ts";
 * import { Store } from "./store.ts";
 * import { Tx } from "./tx.ts";
 * const store = await Store.open(new MemoryFileSystem().view(), "/r");
 * const tx = new Tx(store);
 * tx.set("accounts/alice/counter.txt", "3\n");
 * await tx.get("accounts/alice/counter.txt"); // "3\n"
 * await store.commit(tx.changes);
 * await store.close();
 * ```
 */
export class Tx {
  #store: Store;
  /** The writes of this change set, in order. */
  readonly changes: ChangeSet = new Map();
  /** The store's generation when the reads began; see {@linkcode Store.generation}. */
  readonly generation: number;

  constructor(store: Store) {
    this.#store = store;
    this.generation = store.generation;
  }

  async get(path: string): Promise<string | undefined> {
    if (this.changes.has(path)) return this.changes.get(path) ?? undefined;
    return await this.#store.read(path);
  }

  /** Writes `text`, or removes the file when `text` is null. */
  set(path: string, text: string | null): void {
    this.changes.set(path, text);
  }

  async list(dir: string): Promise<string[]> {
    const names = new Set(await this.#store.list(dir));
    for (const [path, text] of this.changes) layChange(names, dir, path, text);
    return [...names].sort();
  }

  /** Reads a whole number stored as decimal text; `fallback` when the file is missing. */
  async getBigint(path: string, fallback = 0n): Promise<bigint> {
    const text = await this.get(path);
    if (text === undefined) return fallback;
    const value = text.trim();
    if (!/^-?[0-9]+$/.test(value)) throw new Error(`${path} does not hold a number`);
    return BigInt(value);
  }

  /** Like {@linkcode getBigint} for values that fit a JavaScript number (counters). */
  async getNumber(path: string, fallback = 0): Promise<number> {
    return Number(await this.getBigint(path, BigInt(fallback)));
  }

  /** Writes a number as decimal text with a newline. */
  setNumber(path: string, value: bigint | number): void {
    this.set(path, `${value}\n`);
  }
}
