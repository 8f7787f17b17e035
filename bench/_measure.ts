/** Measurements with the CPU they took, and the servers each scenario starts and stops. */

import { freePort } from "../tests/integration/_server.ts";
import {
  type ChildServer,
  type Cluster,
  cpuSeconds,
  machineBusySeconds,
  type RippleServer,
} from "./_cluster.ts";
import type { Site } from "./_fixtures.ts";
import { type Measurement, runLoad } from "./_load.ts";

/** What every scenario runs with. */
export interface Env {
  cluster: Cluster;
  seconds: number;
  warmupSeconds: number;
  /** Workers of the client-command measurements (one account each). */
  concurrency: number;
  /** Payments in flight at once in the concurrent payment measurements (one chain each). */
  paymentConcurrency: number;
  /** Chain lengths of the payment measurements, in hops (at most 9: 127.0.0.31–40). */
  paymentHops: number[];
  /** Each payment row also with the seller's label handed to the buyer, which walks. */
  paymentWalk: boolean;
  signal: AbortSignal;
  /** The measurements to run (see `HELP` in loadbench.ts); the others are left out. */
  only: Set<string>;
  /** Where servers write `--cpu-prof` profiles, if profiling. */
  profileDir?: string;
  progress(message: string): void;
}

/** A server's peak RSS at the end of a scenario. */
export interface Peak {
  server: string;
  role: string;
  kib: number;
}

/**
 * CPU cores used during a measured window: by the child processes watched, by this one,
 * and by the whole machine (the difference is the kernel's network work and other processes).
 */
export interface CpuUse {
  children: number[];
  load: number;
  machine: number;
}

/** A {@linkcode Measurement} with the CPU it took. */
export interface Measured extends Measurement {
  cpu: CpuUse;
}

/** {@linkcode runLoad} with `concurrency` workers, measured by {@linkcode measure}. */
export function load(
  env: Env,
  concurrency: number,
  watched: ChildServer[],
  op: (worker: number) => Promise<void>,
): Promise<Measured> {
  return measure(env, watched, () => runLoad({ ...windowOf(env), concurrency }, op));
}

/** The measured window of every measurement. */
export function windowOf(
  env: Env,
): { seconds: number; warmupSeconds: number; signal: AbortSignal } {
  return { seconds: env.seconds, warmupSeconds: env.warmupSeconds, signal: env.signal };
}

/**
 * Runs a measurement and adds the CPU time used in its window by `watched` and by this
 * process (all its threads), sampled when the window opens and closes.
 */
export async function measure(
  env: Env,
  watched: ChildServer[],
  run: () => Promise<Measurement>,
): Promise<Measured> {
  const pids = [...watched.map((child) => child.pid), Deno.pid];
  const sample = () => Promise.all([machineBusySeconds(), ...pids.map(cpuSeconds)]);
  const at = (ms: number) =>
    new Promise<number[]>((resolve, reject) =>
      setTimeout(() => sample().then(resolve, reject), ms)
    );
  const opened = at(env.warmupSeconds * 1000);
  const closed = at((env.warmupSeconds + env.seconds) * 1000);
  let measurement: Measurement;
  try {
    measurement = await run();
  } finally {
    await Promise.allSettled([opened, closed]);
  }
  const [before, after] = [await opened, await closed];
  const cores = after.map((t, i) => (t - before[i]) / env.seconds);
  const [machine, ...processes] = cores;
  return {
    ...measurement,
    cpu: { children: processes.slice(0, -1), load: processes.at(-1)!, machine },
  };
}

/** A site on `host` with a free port and a fresh datadir. */
export async function site(env: Env, host: string): Promise<Site> {
  const port = freePort(host);
  return { address: `${host}:${port}`, datadir: await env.cluster.tempDir(`data-${host}`) };
}

/** Starts the server of `at` with settings `args`, with a profile if the run profiles. */
export function start(env: Env, at: Site, args: string[] = []): Promise<RippleServer> {
  const [host, port] = at.address.split(":");
  return env.cluster.startServer({
    host,
    port: Number(port),
    datadir: at.datadir,
    profileDir: env.profileDir,
    args,
  });
}

/** Peak RSS of each server, then stops them (a clean exit writes their profiles). */
export async function finish(servers: RippleServer[], role: string): Promise<Peak[]> {
  const peaks = [];
  for (const server of servers) {
    peaks.push({ server: server.address, role, kib: await server.peakRssKiB() });
  }
  for (const server of servers) {
    const status = await server.stop();
    if (status.code !== 0) throw new Error(`${server.name} exited with ${status.code}`);
  }
  return peaks;
}
