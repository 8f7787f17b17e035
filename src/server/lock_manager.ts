/** One datagram at a time per account, first in first out, with a bounded queue. */

/** The account's queue is full; the caller answers `busy`. */
export class BusyError extends Error {
  override name = "BusyError";
}

interface Lane {
  tail: Promise<unknown>;
  queued: number;
}

/**
 * Runs tasks one at a time per key, in the order {@linkcode LockManager.run} was called.
 * The order is fixed synchronously when `run` is called, so callers that must keep
 * arrival order only need to call it in that order.
 *
 * @example
 * ```ts
 * import { LockManager } from "./lock_manager.ts";
 * const locks = new LockManager({ maxQueued: 8 });
 * const order: number[] = [];
 * await Promise.all([1, 2, 3].map((n) => locks.run("alice", async () => { order.push(n); })));
 * order; // [1, 2, 3]
 * ```
 */
export class LockManager {
  #lanes = new Map<string, Lane>();
  #maxQueued: number;

  constructor(options: { maxQueued: number }) {
    this.#maxQueued = options.maxQueued;
  }

  /**
   * Queues `task` behind the running and queued tasks of `key`. Returns a rejected promise
   * with {@linkcode BusyError} when `maxQueued` tasks are already waiting or running.
   */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let lane = this.#lanes.get(key);
    if (lane === undefined) {
      lane = { tail: Promise.resolve(), queued: 0 };
      this.#lanes.set(key, lane);
    }
    if (lane.queued >= this.#maxQueued) {
      return Promise.reject(new BusyError(`${lane.queued} datagrams already queued for ${key}`));
    }
    lane.queued++;
    const current = lane;
    const result = lane.tail.then(task).finally(() => {
      if (--current.queued === 0 && this.#lanes.get(key) === current) this.#lanes.delete(key);
    });
    lane.tail = result.catch(() => {});
    return result;
  }

  /** Keys with a task running or waiting. */
  get busyKeys(): number {
    return this.#lanes.size;
  }
}
