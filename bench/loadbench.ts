/**
 * The whole-system benchmark: real `ripple serve` processes on 127.0.0.x loopback addresses,
 * driven from this process with bounded concurrency and duration, compared with limits
 * measured in the same run. Prints one markdown table on stdout; progress goes to stderr.
 * Every child process is stopped and every temp dir removed at the end, also on an error
 * or Ctrl-C.
 */

import { parseArgs } from "node:util";
import { Cluster } from "./_cluster.ts";
import { FLOOD, idleFlood, type IdleFloodResults } from "./_idle.ts";
import type { Env, Measured } from "./_measure.ts";
import { payments } from "./_payments.ts";
import { clientCommands, limits, manyAccounts, type ManyAccountsResult } from "./_scenarios.ts";

const MEASUREMENTS = [
  "limits",
  "read-unset",
  "read",
  "write",
  "sync",
  "payments",
  "idle",
  "accounts",
];

const HELP = `Usage: deno task loadbench [OPTIONS]

  --seconds N               measured seconds per measurement (default 4), after a warm-up
                            of a quarter of it (at most 1 s)
  --concurrency N           client-command workers, one account each (default 32)
  --payment-concurrency N   payments in flight at once, one chain each (default 4)
  --accounts N              accounts on disk for the memory measurement (default 10000)
  --only LIST               comma-separated subset of ${MEASUREMENTS.join(",")}
  --profile DIR             servers write --cpu-prof profiles into DIR (summarize them with
                            deno run --allow-read bench/cpuprofile_top.ts DIR/*.cpuprofile)`;

/** One row of the table. */
interface Row {
  measurement: string;
  concurrency?: number;
  result: string;
  measured?: Measured;
  ratio?: string;
  target?: string;
  met?: boolean;
}

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: "string", default: "4" },
      concurrency: { type: "string", default: "32" },
      "payment-concurrency": { type: "string", default: "4" },
      accounts: { type: "string", default: "10000" },
      only: { type: "string", default: MEASUREMENTS.join(",") },
      profile: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const positive = (name: "seconds" | "concurrency" | "payment-concurrency" | "accounts") => {
    const value = Number(values[name]);
    if (!(value > 0 && value <= 1_000_000)) throw new Error(`--${name} must be a positive number`);
    return value;
  };
  const only = new Set(values.only.split(","));
  for (const name of only) {
    if (!MEASUREMENTS.includes(name)) throw new Error(`--only: unknown measurement ${name}`);
  }
  return {
    help: values.help,
    seconds: positive("seconds"),
    concurrency: Math.ceil(positive("concurrency")),
    paymentConcurrency: Math.ceil(positive("payment-concurrency")),
    accounts: Math.ceil(positive("accounts")),
    only,
    profile: values.profile,
  };
}

const count = (n: number) => Math.round(n).toLocaleString("en-US");
const times = (x: number) => `${x.toFixed(2)}×`;
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;

function timed(measurement: string, concurrency: number, measured: Measured): Row {
  const errors = measured.errors > 0 ? ` (${measured.errors} errors)` : "";
  return { measurement, concurrency, result: `${count(measured.rate)} /s${errors}`, measured };
}

/**
 * Cores used in the window: the servers (or echo process) together and the busiest, this
 * process, and the whole machine (2 cores here).
 */
function cpu(measured?: Measured): string {
  if (measured === undefined) return "";
  const { children, load, machine } = measured.cpu;
  const total = children.reduce((sum, cores) => sum + cores, 0);
  const busiest = children.length > 1 ? ` (max ${Math.max(...children).toFixed(2)})` : "";
  const servers = children.length === 0 ? "—" : `${total.toFixed(2)}${busiest}`;
  return `${servers} / ${load.toFixed(2)} / ${machine.toFixed(2)}`;
}

function table(rows: Row[]): string {
  const ms = (x?: number) => x === undefined || Number.isNaN(x) ? "" : x.toFixed(1);
  const lines = [
    "| measurement | conc. | result | p50 ms | p99 ms | CPU cores: servers / load / machine | ratio | target | met |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
  ];
  for (const r of rows) {
    const met = r.met === undefined ? "" : r.met ? "yes" : "**no**";
    lines.push(
      `| ${r.measurement} | ${r.concurrency ?? ""} | ${r.result} | ${ms(r.measured?.p50)} | ` +
        `${ms(r.measured?.p99)} | ${cpu(r.measured)} | ${r.ratio ?? ""} | ${r.target ?? ""} | ` +
        `${met} |`,
    );
  }
  return lines.join("\n");
}

async function limitRows(env: Env, rows: Row[]) {
  if (!env.only.has("limits")) return {};
  const { tcp, tcpTwo, durable } = await limits(env);
  rows.push(
    timed(
      "limit: raw TCP to an echo process (connect, write 389 B, read 35 B, close)",
      env.concurrency,
      tcp,
    ),
    timed("limit: raw TCP as above, from two load threads", env.concurrency, tcpTwo),
    timed(
      "limit: durable small-file write (temp, fdatasync, rename, fsync dir)",
      env.concurrency,
      durable,
    ),
  );
  // The better of the two is the limit: the commands are not bound by the load thread.
  return { tcp: Math.max(tcp.rate, tcpTwo.rate), durable: durable.rate };
}

async function commandRows(env: Env, rows: Row[], limit: { tcp?: number; durable?: number }) {
  if (!["read-unset", "read", "write", "sync"].some((name) => env.only.has(name))) return [];
  const { readUnset, read, write, sync, peaks } = await clientCommands(env);
  const c = env.concurrency;
  if (readUnset) {
    const vsTcp = limit.tcp === undefined ? undefined : readUnset.rate / limit.tcp;
    rows.push({
      ...timed("client 4 get trustline out, trustline never set (its files missing)", c, readUnset),
      ratio: vsTcp === undefined ? undefined : `${times(vsTcp)} TCP`,
    });
  }
  if (read) {
    const vsTcp = limit.tcp === undefined ? undefined : read.rate / limit.tcp;
    rows.push({
      ...timed("client 4 get trustline out (read)", c, read),
      ratio: vsTcp === undefined ? undefined : `${times(vsTcp)} TCP`,
      target: "≥ 0.50× TCP",
      met: vsTcp === undefined ? undefined : vsTcp >= 0.5,
    });
  }
  if (write) {
    const vsTcp = limit.tcp === undefined ? undefined : write.rate / limit.tcp;
    const vsDurable = limit.durable === undefined ? undefined : write.rate / limit.durable;
    rows.push({
      ...timed("client 0 set trustline (write)", c, write),
      ratio: [
        vsTcp === undefined ? "" : `${times(vsTcp)} TCP`,
        vsDurable === undefined ? "" : `${times(vsDurable)} durable`,
      ].filter((part) => part !== "").join(", "),
      target: "≥ 3× durable",
      met: vsDurable === undefined ? undefined : vsDurable >= 3,
    });
  }
  if (sync) {
    rows.push(timed("trustline sync round trip (set; client 4 until counter = sync_out)", c, sync));
  }
  return peaks;
}

async function run(env: Env): Promise<Row[]> {
  const rows: Row[] = [];
  const limit = await limitRows(env, rows);
  const peaks = await commandRows(env, rows, limit);
  if (env.only.has("payments")) {
    const paid = await payments(env);
    for (const { hops, concurrency, measurement } of paid.results) {
      const name = `payment, ${hops} hop${hops > 1 ? "s" : ""} (${hops + 1} servers)`;
      const row = timed(name, concurrency, measurement);
      const target = hops === 6 && concurrency === 1;
      rows.push(target ? { ...row, target: "p50 < 100 ms", met: measurement.p50 < 100 } : row);
    }
    peaks.push(...paid.peaks);
  }
  if (env.only.has("idle")) {
    const flood = await idleFlood(env);
    rows.push(...idleRows(flood, env.concurrency));
    peaks.push(...flood.peaks);
  }
  for (const peak of peaks) {
    rows.push({
      measurement: `peak RSS, ${peak.role} server ${peak.server}`,
      result: mib(peak.kib),
    });
  }
  if (env.only.has("accounts")) {
    rows.push(...manyAccountRows(await manyAccounts(env), env.concurrency));
  }
  return rows;
}

function idleRows(flood: IdleFloodResults, concurrency: number): Row[] {
  const rows: Row[] = [
    timed(
      "client 7 get payment, one server, no flood (for the rows below)",
      concurrency,
      flood.quiet,
    ),
  ];
  for (const { case: c, measured, floodRate, floodOpen } of flood.flooded) {
    const settings = c.args.length === 0 ? "default limits" : c.args.join(" ");
    const reopened = c.reopenAfterMs === 0
      ? "each reopened at once: a connection flood"
      : `each reopened ${c.reopenAfterMs / 1000} s after the server closed it`;
    const row = timed(
      `same, ${count(FLOOD)} idle connections held from one other address, ${reopened} ` +
        `(${settings}; the flood connected ${count(floodRate)}/s, ${count(floodOpen)} open ` +
        `at its end)`,
      concurrency,
      measured,
    );
    const ratio = `${times(measured.p99 / flood.quiet.p99)} quiet p99`;
    rows.push(
      c.target
        ? { ...row, ratio, target: "p99 < 1 s", met: measured.errors === 0 && measured.p99 < 1_000 }
        : { ...row, ratio },
    );
  }
  return rows;
}

function manyAccountRows(many: ManyAccountsResult, concurrency: number): Row[] {
  const accounts = count(many.accounts);
  const few = many.fewAccounts;
  const rss = (measurement: string, kib: number): Row => ({ measurement, result: mib(kib) });
  return [
    rss(`peak RSS, server with ${accounts} accounts on disk, at start`, many.peakAtStart),
    {
      ...rss(
        `peak RSS, same, after ${many.fewRequests} requests to ${few} of them`,
        many.peakAfterFew,
      ),
      target: "< 100 MiB",
      met: many.peakAfterFew < 100 * 1024,
    },
    timed(`client 7 get payment, ${few} of ${accounts} accounts on disk`, few, many.load),
    rss(`peak RSS, same, after that load`, many.peakAfterLoad),
    {
      ...rss(
        `peak RSS, same, after one request to each of the ${accounts} ` +
          `(${many.allSeconds.toFixed(1)} s)`,
        many.peakAfterAll,
      ),
      concurrency,
    },
    {
      measurement: `stop (SIGTERM to exit) after that, every touched account's files written`,
      result: `${many.stopSeconds.toFixed(1)} s`,
    },
  ];
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options.help) {
    console.log(HELP);
    return 0;
  }
  const interrupted = new AbortController();
  const onSignal = () => interrupted.abort(new Error("interrupted"));
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    await using cluster = await Cluster.create();
    if (options.profile !== undefined) await Deno.mkdir(options.profile, { recursive: true });
    const started = performance.now();
    const rows = await run({
      cluster,
      seconds: options.seconds,
      warmupSeconds: Math.min(1, options.seconds / 4),
      concurrency: options.concurrency,
      paymentConcurrency: options.paymentConcurrency,
      accountsOnDisk: options.accounts,
      only: options.only,
      signal: interrupted.signal,
      profileDir: options.profile,
      progress: (message) =>
        console.error(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${message}`),
    });
    console.log(table(rows));
    return 0;
  } catch (error) {
    if (!interrupted.signal.aborted) throw error;
    console.error("loadbench: interrupted; every server was stopped and every temp dir removed");
    return 130;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
