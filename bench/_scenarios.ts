/**
 * The limits, the client commands and the many-accounts measurement of the load benchmark;
 * each scenario starts its own servers and stops them when done.
 */

import { WebCryptoMac } from "../src/auth/hmac.ts";
import * as api from "../src/client/commands.ts";
import type { Client } from "../src/client/client.ts";
import { encodeRecord, segmentName, segmentNumber } from "../src/store/journal.ts";
import { accountPath } from "../src/store/paths.ts";
import type { ChildServer, RippleServer } from "./_cluster.ts";
import { addAccounts, addPeers, type BenchAccount, clientOf } from "./_fixtures.ts";
import {
  durableWrite,
  type Measurement,
  merge,
  runLoad,
  tcpChainRaw,
  tcpExchangeRaw,
} from "./_load.ts";
import {
  type Env,
  finish,
  load,
  measure,
  type Measured,
  type Peak,
  site,
  start,
  windowOf,
} from "./_measure.ts";
import type { TcpWork } from "./_tcp_worker.ts";

const POLL_MS = 2;

/** The second load thread of {@linkcode tcpTwoThreads}, once it has loaded. */
async function startTcpWorker(): Promise<Worker> {
  const worker = new Worker(new URL("./_tcp_worker.ts", import.meta.url), { type: "module" });
  await new Promise((resolve) => worker.onmessage = resolve);
  return worker;
}

/** Raw TCP chains of `exchanges` from this thread and a worker, half the workers each. */
async function tcpTwoThreads(
  env: Env,
  echo: ChildServer,
  exchanges: number,
): Promise<Measurement> {
  const worker = await startTcpWorker();
  try {
    return await tcpTwoThreadsWith(env, worker, echo, exchanges);
  } finally {
    worker.terminate();
  }
}

async function tcpTwoThreadsWith(
  env: Env,
  worker: Worker,
  echo: ChildServer,
  exchanges: number,
): Promise<Measurement> {
  const posted = new Promise<MessageEvent<Measurement>>((resolve, reject) => {
    worker.onmessage = resolve;
    worker.onerror = (event) => reject(new Error(event.message));
  });
  const half = Math.max(1, Math.floor(env.concurrency / 2));
  const work: TcpWork = {
    host: echo.host,
    port: echo.port,
    seconds: env.seconds,
    warmupSeconds: env.warmupSeconds,
    concurrency: half,
    exchanges,
  };
  worker.postMessage(work);
  const here = runLoad(
    { ...windowOf(env), concurrency: env.concurrency - half },
    () => tcpChainRaw(echo.host, echo.port, exchanges),
  );
  return merge([await here, (await posted).data], env.seconds);
}

/** The limits the commands are compared with, measured in the same run. */
export interface Limits {
  /** One raw exchange at a time: the latency a one-client read is compared with. */
  tcpOne: Measured;
  tcp: Measured;
  tcpTwo: Measured;
  /** Chains of three raw exchanges, from two threads: what a write is compared with. */
  chain: Measured;
  durable: Measured;
}

/** The limits: raw loopback TCP against an echo process, and durable small-file writes. */
export async function limits(env: Env): Promise<Limits> {
  const echo = await env.cluster.startEcho("127.0.0.20");
  const exchange = () => tcpExchangeRaw(echo.host, echo.port);
  env.progress("limit: raw TCP against an echo process, one client");
  const tcpOne = await load(env, 1, [echo], exchange);
  env.progress("limit: raw TCP against an echo process");
  const tcp = await load(env, env.concurrency, [echo], exchange);
  env.progress("limit: raw TCP against an echo process, two load threads");
  const tcpTwo = await measure(env, [echo], () => tcpTwoThreads(env, echo, 1));
  env.progress("limit: chains of three raw TCP exchanges, two load threads");
  const chain = await measure(env, [echo], () => tcpTwoThreads(env, echo, WRITE_EXCHANGES));
  await echo.stop();
  env.progress("limit: durable small-file writes");
  // Beside the datadirs: the same file system the servers' journals are on.
  const dir = await env.cluster.tempDir("durable-probe");
  const durable = await load(env, env.concurrency, [], (i) => durableWrite(dir, i));
  return { tcpOne, tcp, tcpTwo, chain, durable };
}

/** TCP exchanges a write costs the servers: the client's, the datagram out, the confirmation. */
export const WRITE_EXCHANGES = 3;

/** What {@linkcode clientCommands} measured; a measurement not asked for is left out. */
export interface CommandResults {
  /** Get trustline out before any trustline was set: the files it reads do not exist. */
  readUnset?: Measured;
  read?: Measured;
  /** The read with one client at a time. */
  readOne?: Measured;
  /** The same with the client library's own WebCrypto HMAC in the load client. */
  readOneWebCrypto?: Measured;
  write?: Measured;
  sync?: Measured;
  peaks: Peak[];
}

/**
 * Client commands on one server whose accounts each have a peer on a second server: get
 * trustline out (read), set trustline (write, which also sends the trustline to the peer's
 * server), and the whole sync round trip.
 */
export async function clientCommands(env: Env): Promise<CommandResults> {
  const [s1, s2] = [await site(env, "127.0.0.21"), await site(env, "127.0.0.22")];
  const n = env.concurrency;
  const locals = await addAccounts(s1, Array.from({ length: n }, (_, i) => `u${i}`));
  const peers = await addAccounts(s2, Array.from({ length: n }, (_, i) => `v${i}`));
  for (let i = 0; i < n; i++) await addPeers(locals[i], peers[i]);
  const servers = [await start(env, s1), await start(env, s2)];
  const clients = locals.map((account) => clientOf(account));
  let amount = 0n;
  const results: CommandResults = { peaks: [] };
  const read = async (i: number) => {
    await api.getTrustlineOut(clients[i], peers[i].ref);
  };
  if (env.only.has("read-unset")) {
    env.progress("client command 4 get trustline out, trustlines never set");
    results.readUnset = await load(env, n, servers, read);
  }
  // From here on every trustline was set and confirmed once, so its files exist.
  await Promise.all(clients.map(async (client, i) => {
    await api.setTrustline(client, peers[i].ref, ++amount);
    await untilSynced(client, peers[i]);
  }));
  if (env.only.has("read")) {
    env.progress("client command 4 get trustline out, one client");
    results.readOne = await load(env, 1, servers, read);
    env.progress("client command 4 get trustline out, one client signing with WebCrypto");
    const webCrypto = clientOf(locals[0], new WebCryptoMac());
    await api.getTrustlineOut(webCrypto, peers[0].ref).catch(() => {}); // moves past the counter
    results.readOneWebCrypto = await load(env, 1, servers, async () => {
      await api.getTrustlineOut(webCrypto, peers[0].ref);
    });
    env.progress("client command 4 get trustline out");
    results.read = await load(env, n, servers, read);
  }
  if (env.only.has("write")) {
    env.progress("client command 0 set trustline");
    results.write = await load(env, n, servers, async (i) => {
      await api.setTrustline(clients[i], peers[i].ref, ++amount);
    });
  }
  if (env.only.has("sync")) {
    env.progress("trustline sync round trips");
    results.sync = await load(env, n, servers, async (i) => {
      await api.setTrustline(clients[i], peers[i].ref, ++amount);
      await untilSynced(clients[i], peers[i]);
    });
  }
  results.peaks = await finish(servers, "client commands");
  return results;
}

async function untilSynced(client: Client, peer: BenchAccount): Promise<void> {
  const end = Date.now() + 30_000;
  for (;;) {
    const out = await api.getTrustlineOut(client, peer.ref);
    if (out.syncOut === out.counter) return;
    if (Date.now() > end) throw new Error(`trustline to ${peer.ref.username} not synced`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** What {@linkcode manyAccounts} measured; peaks in KiB. */
export interface ManyAccountsResult {
  accounts: number;
  fewAccounts: number;
  /** Requests in all to the few accounts before {@linkcode peakAfterFew}. */
  fewRequests: number;
  /** Closed-loop load on the few accounts, one worker each. */
  load: Measured;
  /** Seconds to make one request to every account once. */
  allSeconds: number;
  /** Seconds from starting the process to its first accepted connection, journal empty. */
  startSeconds: number;
  /** Seconds from SIGTERM to the server's exit after one request to every account. */
  stopSeconds: number;
  /** Bytes of the journal written before {@linkcode startFullSeconds}. */
  journalBytes: number;
  /** Like {@linkcode startSeconds}, with that full journal to replay. */
  startFullSeconds: number;
  /** Like {@linkcode stopSeconds}, a moment after that start (its first checkpoint running). */
  stopFullSeconds: number;
  peakAtStart: number;
  peakAfterFew: number;
  peakAfterLoad: number;
  peakAfterAll: number;
}

const FEW = 10;
const REQUESTS_EACH = 10;
/** The journal segment size at which the store starts a checkpoint: a full journal. */
const FULL_JOURNAL_BYTES = 4 * 1024 * 1024;
/** Long enough after a start for its first checkpoint (2 s after the start) to be writing. */
const BEFORE_SECOND_STOP_MS = 2_500;

/**
 * A server on a datadir with many accounts (client 7 get payment, which needs no peer):
 * a few requests to a few accounts, then a closed-loop load on them, then one request to
 * every account, with the server's peak RSS after each; then the stop, a full journal
 * written into the datadir, a start that replays it and a stop soon after, each timed.
 */
export async function manyAccounts(
  env: Env,
  count: number,
  index: number,
): Promise<ManyAccountsResult> {
  // A host, and so a datadir, of its own for each size: 127.0.0.40, .39, …
  const at = await site(env, `127.0.0.${40 - index}`);
  const label = `${count} accounts on disk`;
  env.progress(`${label}: writing them`);
  const names = Array.from({ length: count }, (_, i) => `a${i}`);
  const accounts = await addAccounts(at, names, 32, false);
  const timedStart = async () => {
    const began = performance.now();
    const server = await start(env, at);
    return { server, seconds: (performance.now() - began) / 1000 };
  };
  const timedStop = async (server: RippleServer) => {
    const began = performance.now();
    const status = await server.stop();
    if (status.code !== 0) throw new Error(`${server.name} exited with ${status.code}`);
    return (performance.now() - began) / 1000;
  };
  const { server, seconds: startSeconds } = await timedStart();
  const peakAtStart = await server.peakRssKiB();
  const clients = accounts.map((account) => clientOf(account));
  const id = new Uint8Array(32);
  const few = clients.slice(0, FEW);
  env.progress(`${label}: ${REQUESTS_EACH} requests to ${few.length}`);
  await Promise.all(few.map(async (client) => {
    for (let i = 0; i < REQUESTS_EACH; i++) await api.getPayment(client, id);
  }));
  const peakAfterFew = await server.peakRssKiB();
  env.progress(`${label}: load on ${few.length} of them`);
  const measured = await load(env, few.length, [server], async (i) => {
    await api.getPayment(few[i], id);
  });
  const peakAfterLoad = await server.peakRssKiB();
  env.progress(`${label}: one request to each`);
  const began = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: env.concurrency }, async () => {
    while (next < clients.length) {
      env.signal.throwIfAborted();
      await api.getPayment(clients[next++], id);
    }
  }));
  const allSeconds = (performance.now() - began) / 1000;
  const peakAfterAll = await server.peakRssKiB();
  const stopSeconds = await timedStop(server);
  env.progress(`${label}: a full journal, then a start and a stop`);
  const journalBytes = await writeFullJournal(at.datadir, names);
  const second = await timedStart();
  await new Promise((resolve) => setTimeout(resolve, BEFORE_SECOND_STOP_MS));
  const stopFullSeconds = await timedStop(second.server);
  return {
    accounts: accounts.length,
    fewAccounts: few.length,
    fewRequests: few.length * REQUESTS_EACH,
    load: measured,
    allSeconds,
    startSeconds,
    stopSeconds,
    journalBytes,
    startFullSeconds: second.seconds,
    stopFullSeconds,
    peakAtStart,
    peakAfterFew,
    peakAfterLoad,
    peakAfterAll,
  };
}

/**
 * Appends a journal segment of {@linkcode FULL_JOURNAL_BYTES} to a stopped server's
 * datadir: change sets of one client counter each, going round the accounts, with
 * counters above any the run used. Returns its size.
 */
async function writeFullJournal(datadir: string, names: string[]): Promise<number> {
  const dir = `${datadir}/ripple/journal`;
  let last = 0;
  for await (const entry of Deno.readDir(dir)) {
    last = Math.max(last, segmentNumber(entry.name) ?? 0);
  }
  const lines: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < FULL_JOURNAL_BYTES; i++) {
    const path = accountPath(names[i % names.length], "counter.txt");
    const line = encodeRecord(new Map([[path, `${1_000_000 + i}\n`]]));
    lines.push(line);
    bytes += line.length;
  }
  await Deno.writeTextFile(`${dir}/${segmentName(last + 1)}`, lines.join(""));
  return bytes;
}
