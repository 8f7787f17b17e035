/** A worker of `deno task sim --jobs N`: runs the seeds it is sent, one at a time, and posts each result back. */

/// <reference lib="deno.worker" />

import { runSeedTask, type SeedTask } from "./seeds.ts";

self.onmessage = async (event: MessageEvent<SeedTask>) => {
  try {
    self.postMessage(await runSeedTask(event.data));
  } catch (error) {
    const stack = error instanceof Error ? error.stack ?? error.message : String(error);
    self.postMessage({ kind: "error", stack });
  }
};
