/**
 * A second load thread for the raw TCP limits: runs {@linkcode tcpChainRaw} loops for one
 * measurement and posts the {@linkcode Measurement} back. Started by bench/_scenarios.ts.
 */

import { runLoad, tcpChainRaw } from "./_load.ts";

/** What the thread is asked to run. */
export interface TcpWork {
  host: string;
  port: number;
  seconds: number;
  warmupSeconds: number;
  concurrency: number;
  /** Raw exchanges per operation, one after another. */
  exchanges: number;
}

const self = globalThis as unknown as {
  onmessage: ((event: MessageEvent<TcpWork>) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

self.onmessage = async ({ data }) => {
  const measurement = await runLoad({
    seconds: data.seconds,
    warmupSeconds: data.warmupSeconds,
    concurrency: data.concurrency,
    signal: new AbortController().signal,
  }, () => tcpChainRaw(data.host, data.port, data.exchanges));
  self.postMessage(measurement);
  self.close();
};
self.postMessage("ready");
