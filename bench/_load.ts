/** Closed-loop load with bounded concurrency and duration, and the two limits the commands are compared with. */

import { Deadline, readUpTo, writeAll } from "../src/core/deadline.ts";
import { writeDurable } from "../src/store/durable.ts";
import { DenoFileSystem } from "../src/store/fs.ts";
import { sleep } from "../tests/integration/_wait.ts";

/** How long and how wide a {@linkcode runLoad} measurement is. */
export interface LoadOptions {
  /** Length of the measured window. */
  seconds: number;
  /** Run, unmeasured, for this long first (JIT, caches, connection set-up). */
  warmupSeconds: number;
  /** Workers, each running one operation at a time. */
  concurrency: number;
  /** Ends the measurement early (the run was interrupted). */
  signal: AbortSignal;
}

/** What a {@linkcode runLoad} measured. */
export interface Measurement {
  /** Operations completed in the window, per second. */
  rate: number;
  /** Latency percentiles of those operations, in milliseconds. */
  p50: number;
  p99: number;
  completed: number;
  errors: number;
  firstError?: string;
  /** Every latency counted, ascending, in milliseconds (to merge measurements). */
  latencies: number[];
}

/**
 * Runs `operation` in `concurrency` closed loops (worker `i` passes `i`) through a warm-up
 * and a measured window. Counted: operations that complete inside the window; an
 * operation that throws is counted as an error and its worker pauses 10 ms.
 *
 * @example
 * ```ts ignore
 * const m = await runLoad({ seconds: 4, warmupSeconds: 1, concurrency: 32, signal }, async (i) => {
 *   await getTrustlineOut(clients[i], peers[i]);
 * });
 * ```
 */
export async function runLoad(
  options: LoadOptions,
  operation: (worker: number) => Promise<void>,
): Promise<Measurement> {
  const start = performance.now() + options.warmupSeconds * 1000;
  const end = start + options.seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const worker = async (i: number) => {
    while (performance.now() < end && !options.signal.aborted) {
      const began = performance.now();
      try {
        await operation(i);
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        await sleep(10);
        continue;
      }
      const done = performance.now();
      if (done >= start && done <= end) latencies.push(done - began);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  options.signal.throwIfAborted();
  latencies.sort((a, b) => a - b);
  return {
    rate: latencies.length / options.seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    completed: latencies.length,
    errors,
    firstError,
    latencies,
  };
}

/**
 * Measurements of the same window taken side by side (by several load threads) as one:
 * rates add up, percentiles are over all latencies.
 */
export function merge(parts: Measurement[], seconds: number): Measurement {
  const latencies = parts.flatMap((part) => part.latencies).sort((a, b) => a - b);
  return {
    rate: latencies.length / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    completed: latencies.length,
    errors: parts.reduce((sum, part) => sum + part.errors, 0),
    firstError: parts.find((part) => part.firstError !== undefined)?.firstError,
    latencies,
  };
}

/**
 * The nearest-rank percentile `q` (0–1) of ascending `sorted`; NaN when empty.
 *
 * @example
 * ```ts ignore
 * percentile([1, 2, 3, 4], 0.5); // 2
 * ```
 */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const REQUEST = new Uint8Array(389);
const ANSWER_SIZE = 35;

/**
 * One raw exchange as the client library does it, minus the HMACs: connect, write 389
 * bytes, read the 35-byte answer, close.
 */
export async function tcpExchangeRaw(host: string, port: number): Promise<void> {
  using deadline = new Deadline(10_000);
  using conn = await Deno.connect({ hostname: host, port, signal: deadline.signal });
  await writeAll(conn, REQUEST, deadline.signal);
  const answer = await readUpTo(conn, ANSWER_SIZE, deadline.signal);
  if (answer.length !== ANSWER_SIZE) throw new Error(`a ${answer.length}-byte answer`);
}

/**
 * `exchanges` raw exchanges one after another, as a write costs the servers three: the
 * client's, the datagram to the peer's server, and the confirmation that comes back.
 */
export async function tcpChainRaw(host: string, port: number, exchanges: number): Promise<void> {
  for (let i = 0; i < exchanges; i++) await tcpExchangeRaw(host, port);
}

const fs = new DenoFileSystem();
let written = 0;

/**
 * One durable replacement of a small file with the store's own recipe (temp file,
 * fdatasync, rename, fsync of the directory); worker `i` writes `dir/i/counter.txt`.
 */
export async function durableWrite(dir: string, worker: number): Promise<void> {
  await writeDurable(fs, `${dir}/${worker}/counter.txt`, `${++written}\n`);
}
