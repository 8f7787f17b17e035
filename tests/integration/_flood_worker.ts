/**
 * The body of a `FloodThread` (tests/integration/_flood_thread.ts): an `IdleFlood` in its own thread. It
 * posts "ready" when loaded, "settled" once the flood's connections are open, and a
 * {@linkcode FloodReport} after "stop".
 */

import type { FloodReport } from "./_flood_thread.ts";
import { IdleFlood, type IdleFloodOptions } from "./_idle_flood.ts";

const self = globalThis as unknown as {
  onmessage: ((event: MessageEvent<IdleFloodOptions | "stop">) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

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
