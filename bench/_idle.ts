/**
 * Fair service under an idle flood: client commands from one address while another holds
 * 1,500 connections open that never send a byte, reopening those the server closes.
 */

import * as api from "../src/client/commands.ts";
import { FloodThread } from "../tests/integration/_flood_thread.ts";
import { addAccounts, clientOf } from "./_fixtures.ts";
import { type Env, finish, load, type Measured, type Peak, site, start } from "./_measure.ts";

/** Connections the flood holds open. */
export const FLOOD = 1_500;
/** The flood's source address; the clients connect unbound, so from 127.0.0.1. */
const FLOOD_HOST = "127.0.0.23";

/** One server and flood of {@linkcode idleFlood}. */
export interface FloodCase {
  host: string;
  /** The server's settings beyond the defaults. */
  args: string[];
  /** The flood reopens a connection this long after the server closed it. */
  reopenAfterMs: number;
  /** Whether the goal (p99 < 1 s) applies: not to a full-speed connection flood. */
  target: boolean;
}

/**
 * Held idle, reopened a second after being closed (what tools that keep connections open
 * do), against the default limits and against a server without a per-source cap (the
 * flood fills it); then reopened at once: a connection flood, which fills the kernel's
 * accept queue (the row shows what the server cannot help).
 */
export const FLOOD_CASES: FloodCase[] = [
  { host: "127.0.0.24", args: [], reopenAfterMs: 1_000, target: true },
  {
    host: "127.0.0.25",
    args: ["--max-connections-per-source", "100000"],
    reopenAfterMs: 1_000,
    target: true,
  },
  { host: "127.0.0.26", args: [], reopenAfterMs: 0, target: false },
];

/** What the flood did during one measurement of {@linkcode idleFlood}. */
export interface FloodedMeasurement {
  case: FloodCase;
  measured: Measured;
  /** Connections the flood established per second, reopened ones included. */
  floodRate: number;
  /** Flood connections open when it stopped (held by the server, or not yet closed). */
  floodOpen: number;
}

/** What {@linkcode idleFlood} measured. */
export interface IdleFloodResults {
  quiet: Measured;
  flooded: FloodedMeasurement[];
  peaks: Peak[];
}

/**
 * Client 7 get payment (an account's own record, no peer), one account per worker: first
 * with nothing else going on, then under each flood of {@linkcode FLOOD_CASES}, each on a
 * fresh server. The flood runs in its own thread.
 */
export async function idleFlood(env: Env): Promise<IdleFloodResults> {
  const n = env.concurrency;
  const flooded: FloodedMeasurement[] = [];
  const peaks: Peak[] = [];
  let quiet: Measured | undefined;
  for (const floodCase of FLOOD_CASES) {
    const at = await site(env, floodCase.host);
    const accounts = await addAccounts(at, Array.from({ length: n }, (_, i) => `u${i}`));
    const server = await start(env, at, floodCase.args);
    const clients = accounts.map((account) => clientOf(account));
    const id = new Uint8Array(32);
    const command = async (i: number) => {
      await api.getPayment(clients[i], id);
    };
    if (quiet === undefined) {
      env.progress("client command 7 get payment, no flood");
      quiet = await load(env, n, [server], command);
    }
    env.progress(
      `client command 7 get payment, ${FLOOD} idle connections reopened after ` +
        `${floodCase.reopenAfterMs} ms ${floodCase.args.join(" ")}`,
    );
    const thread = await FloodThread.start({
      address: server.address,
      from: FLOOD_HOST,
      count: FLOOD,
      reopenAfterMs: floodCase.reopenAfterMs,
    });
    let measured: Measured;
    try {
      measured = await load(env, n, [server], command);
    } finally {
      // Stopped before the report is read, also when the measurement failed.
      await thread.stop();
    }
    if (measured.firstError) env.progress(`first error: ${measured.firstError}`);
    const report = await thread.stop();
    flooded.push({
      case: floodCase,
      measured,
      floodRate: report.stats.connected / report.seconds,
      floodOpen: report.stats.open,
    });
    peaks.push(...await finish([server], `idle flood ${floodCase.host}`));
  }
  return { quiet: quiet!, flooded, peaks };
}
