/**
 * The idle flood of the load benchmark in its own thread, so that reopening connections
 * does not slow the thread whose client commands are measured. Started by bench/_idle.ts:
 * it posts "settled" once the flood's connections are open, and its stats after "stop".
 */

import {
  IdleFlood,
  type IdleFloodOptions,
  type IdleFloodStats,
} from "../tests/integration/_idle_flood.ts";

const self = globalThis as unknown as {
  onmessage: ((event: MessageEvent<IdleFloodOptions | "stop">) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

/** What the thread posts when stopped: the flood's stats and how long it ran. */
export interface FloodReport {
  stats: IdleFloodStats;
  seconds: number;
}

let flood: IdleFlood | null = null;
let started = 0;

self.onmessage = async ({ data }) => {
  if (data !== "stop") {
    started = performance.now();
    flood = IdleFlood.start(data);
    await flood.settled();
    self.postMessage("settled");
    return;
  }
  const report: FloodReport = {
    stats: flood!.stats,
    seconds: (performance.now() - started) / 1000,
  };
  await flood![Symbol.asyncDispose]();
  self.postMessage(report);
  self.close();
};
self.postMessage("ready");
