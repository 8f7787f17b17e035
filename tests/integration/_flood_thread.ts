/** An {@linkcode IdleFlood} in a thread of its own, so that its work does not slow the thread measured or tested. */

import type { IdleFloodOptions, IdleFloodStats } from "./_idle_flood.ts";

/** What a {@linkcode FloodThread} did: the flood's stats when stopped, and how long it ran. */
export interface FloodReport {
  stats: IdleFloodStats;
  seconds: number;
}

/**
 * Runs an idle flood in a `Worker`. A flood that reopens connections at once is a loop as
 * fast as the thread can go; in the thread of the clients it would delay their writes,
 * and their connections would look idle to the server for reasons of the client's own.
 *
 * @example
 * ```ts ignore
 * await using thread = await FloodThread.start({ address, from: "127.0.0.50", count: 1_500, reopenAfterMs: 0 });
 * const report = await thread.stop();
 * ```
 */
export class FloodThread implements AsyncDisposable {
  #worker: Worker;
  #report: Promise<FloodReport> | null = null;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /** Starts the thread and the flood; resolves once the flood's connections are open. */
  static async start(options: IdleFloodOptions): Promise<FloodThread> {
    const worker = new Worker(new URL("./_flood_worker.ts", import.meta.url), { type: "module" });
    const thread = new FloodThread(worker);
    try {
      await thread.#next();
      worker.postMessage(options);
      await thread.#next();
    } catch (error) {
      worker.terminate();
      throw error;
    }
    return thread;
  }

  /** Closes every connection of the flood and ends the thread; resolves with its report. */
  stop(): Promise<FloodReport> {
    if (this.#report === null) {
      this.#worker.postMessage("stop");
      this.#report = (this.#next() as Promise<FloodReport>).finally(() => this.#worker.terminate());
    }
    return this.#report;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #next(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#worker.onmessage = (event) => resolve(event.data);
      this.#worker.onerror = (event) => reject(new Error(event.message));
    });
  }
}
