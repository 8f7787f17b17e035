/**
 * Where one payment's time goes: a chain of `--hops` hops across that many + 1 real servers
 * (127.0.0.31…, one account each, debug logs), payments one at a time with a pause between,
 * and for each a timeline of every datagram each server handled and sent, from the servers'
 * own debug lines (`datagram-handled`, `sent`, `journal-written`), broken down by phase.
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-write --allow-run bench/payment_trace.ts --hops 6
 * ```
 */

import { parseArgs } from "node:util";
import { freePort } from "../tests/integration/_server.ts";
import { Cluster, type RippleServer } from "./_cluster.ts";
import { addAccounts, addPeers, clientOf } from "./_fixtures.ts";
import { type Chain, payOnce, trustChain } from "./_payments.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    hops: { type: "string", default: "6" },
    payments: { type: "string", default: "7" },
    "pause-ms": { type: "string", default: "300" },
    timeline: { type: "boolean", default: false },
    walk: { type: "boolean", default: false },
  },
});
const hops = Number(values.hops);
const count = Number(values.payments);
const pauseMs = Number(values["pause-ms"]);

interface Line {
  time: number;
  server: number;
  event: string;
  account?: string;
  command?: string;
  peer?: string;
  queuedMs?: number;
  handledMs?: number;
  durableMs?: number;
  laneMs?: number;
  sealMs?: number;
  sendMs?: number;
  changeSets?: number;
  ms?: number;
}

/** A payment's window, as the load client saw it. */
interface Window {
  start: number;
  buyerDone: number;
  end: number;
}

await using cluster = await Cluster.create();
const sites = [];
for (let s = 0; s <= hops; s++) {
  const host = `127.0.0.${31 + s}`;
  sites.push({ address: `${host}:${freePort(host)}`, datadir: await cluster.tempDir(`d${s}`) });
}
const accounts = [];
for (let s = 0; s <= hops; s++) accounts.push((await addAccounts(sites[s], [`n${s}`]))[0]);
for (let s = 0; s < hops; s++) await addPeers(accounts[s], accounts[s + 1]);
const chain: Chain = { accounts, clients: accounts.map((account) => clientOf(account)) };
const servers: RippleServer[] = await Promise.all(sites.map((at) => {
  const [host, port] = at.address.split(":");
  return cluster.startServer({
    host,
    port: Number(port),
    datadir: at.datadir,
    args: ["--log-level", "debug"],
  });
}));
await trustChain(chain);
const pause = () => new Promise((resolve) => setTimeout(resolve, pauseMs));
await pause();
// The first payment opens connections, compiles and fills caches: not counted.
await payOnce(chain, undefined, values.walk);
await pause();
const windows: Window[] = [];
for (let i = 0; i < count; i++) {
  const marks: number[] = [];
  const start = Date.now();
  await payOnce(chain, marks, values.walk);
  windows.push({ start, buyerDone: marks[0], end: Date.now() });
  await pause();
}
await new Promise((resolve) => setTimeout(resolve, 200));

const lines: Line[] = [];
for (const [index, server] of servers.entries()) {
  for (const text of (await Deno.readTextFile(server.logFile)).split("\n")) {
    const line = parseLine(text, index);
    if (line !== null) lines.push(line);
  }
}
lines.sort((a, b) => a.time - b.time);

const phaseOf: Record<string, string> = {
  "server-search": "search",
  "server-search-report": "search",
  "server-walk": "search",
  "server-walk-report": "search",
  "server-lock": "lock",
  "server-locked": "locked",
  "server-commit": "commit",
  "server-committed": "committed",
  "server-finalize": "finalize",
};

const totals: number[] = [];
const summaries: Record<string, number[]> = {};
const add = (key: string, value: number) => (summaries[key] ??= []).push(value);
for (const [i, window] of windows.entries()) {
  const within = lines.filter((line) => line.time >= window.start && line.time <= window.end);
  const total = window.end - window.start;
  totals.push(total);
  const handled = within.filter((line) => line.event === "datagram-handled");
  const sent = within.filter((line) => line.event === "sent");
  const journal = within.filter((line) => line.event === "journal-written");
  // The end of each phase: the last datagram of it handled anywhere.
  const lastOf = (phase: string) =>
    Math.max(
      ...handled.filter((line) => phaseOf[line.command ?? ""] === phase).map((l) => l.time),
    );
  const firstOf = (phase: string) =>
    Math.min(
      ...handled.filter((line) => phaseOf[line.command ?? ""] === phase).map((l) => l.time),
    );
  const phases = ["search", "lock", "locked", "commit", "committed", "finalize"];
  let previous = window.start;
  const shown: string[] = [];
  for (const phase of phases) {
    const end = lastOf(phase);
    if (!Number.isFinite(end)) continue;
    add(`phase ${phase} (to its last datagram handled)`, end - previous);
    shown.push(`${phase} ${end - previous}`);
    previous = end;
  }
  add("after the last finalize: seller's completion seen by its poll", window.end - previous);
  add("buyer completed seen (from client 6)", window.buyerDone - window.start);
  const sum = (list: Line[], key: keyof Line) =>
    list.reduce((total, line) => total + ((line[key] as number | undefined) ?? 0), 0);
  const serverDatagrams = handled.filter((line) => line.peer !== undefined);
  add("server datagrams handled", serverDatagrams.length);
  add("client requests handled (polls included)", handled.length - serverDatagrams.length);
  add("datagrams sent", sent.length);
  add("journal writes (append + fdatasync)", journal.length);
  add("journal write ms, mean", sum(journal, "ms") / Math.max(1, journal.length));
  add("handler ms (verify, read, run), mean", sum(handled, "handledMs") / handled.length);
  add("queued for the account's lock ms, mean", sum(handled, "queuedMs") / handled.length);
  add("waited for durable ms, mean", sum(handled, "durableMs") / handled.length);
  add("sender lane wait ms, mean", sum(sent, "laneMs") / Math.max(1, sent.length));
  add("seal (counter, sign) ms, mean", sum(sent, "sealMs") / Math.max(1, sent.length));
  add("TCP send (connect, write, close) ms, mean", sum(sent, "sendMs") / Math.max(1, sent.length));
  add("wakes (timers) in the window", handled.filter((line) => line.command === "wake").length);
  console.log(
    `payment ${i + 1}: ${total} ms; buyer done at ${window.buyerDone - window.start}; ` +
      `search from ${firstOf("search") - window.start}; ${shown.join(", ")}`,
  );
  if (values.timeline) {
    for (const line of within) {
      if (line.event === "datagram-handled" && line.peer === undefined && line.command !== "wake") {
        continue;
      }
      const { time, server, event, ...rest } = line;
      delete (rest as Record<string, unknown>).level;
      console.log(`  +${time - window.start} s${server} ${event} ${JSON.stringify(rest)}`);
    }
  }
}

const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
console.log(`\n${count} payments of ${hops} hops, one at a time: median ${median(totals)} ms`);
for (const [key, list] of Object.entries(summaries)) {
  console.log(`  ${key}: median ${median(list).toFixed(2)}`);
}

/** A text log line (`TIME LEVEL EVENT key=value…`), numbers as numbers. */
function parseLine(text: string, server: number): Line | null {
  const match = /^(\S+) (\w+) (\S+)(.*)$/.exec(text);
  if (match === null || Number.isNaN(Date.parse(match[1]))) return null;
  const fields: Record<string, string | number> = {};
  for (const [, key, quoted, bare] of match[4].matchAll(/ (\w+)=(?:("(?:[^"\\]|\\.)*")|(\S+))/g)) {
    const value = quoted === undefined ? bare : JSON.parse(quoted);
    fields[key] = /^-?[0-9.]+$/.test(value) ? Number(value) : value;
  }
  return { ...fields, time: Date.parse(match[1]), server, event: match[3] } as Line;
}
