/**
 * A second load thread for the raw TCP limit: runs {@linkcode tcpExchangeRaw} loops for one
 * measurement and posts the {@linkcode Measurement} back. Started by bench/_scenarios.ts.
 */

import { runLoad, tcpExchangeRaw } from "./_load.ts";

/** What the thread is asked to run. */
export interface TcpWork {
  host: string;
  port: number;
  seconds: number;
  warmupSeconds: number;
  concurrency: number;
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
  }, () => tcpExchangeRaw(data.host, data.port));
  self.postMessage(measurement);
  self.close();
};
self.postMessage("ready");
