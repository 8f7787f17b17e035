/**
 * The whole-system benchmark: real `ripple serve` processes on 127.0.0.x loopback addresses,
 * driven from this process with bounded concurrency and duration, compared with limits
 * measured in the same run. Prints one markdown table on stdout (or, with `--json`, every
 * figure and ratio by name); progress goes to stderr.
 * Every child process is stopped and every temp dir removed at the end, also on an error
 * or Ctrl-C.
 */

import { parseArgs } from "node:util";
import { Cluster } from "./_cluster.ts";
import { FLOOD, idleFlood, type IdleFloodResults } from "./_idle.ts";
import type { Env, Measured } from "./_measure.ts";
import { payments } from "./_payments.ts";
import {
  clientCommands,
  limits,
  manyAccounts,
  type ManyAccountsResult,
  WRITE_EXCHANGES,
} from "./_scenarios.ts";

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
  --concurrency N           client-command workers, one account each (default 16)
  --payment-concurrency N   payments in flight at once, one chain each (default 4); 1 runs
                            the one-at-a-time rows alone
  --hops LIST               chain lengths of the payment rows (default 1,3,6; at most 9)
  --walk                    each payment row also as "ripple client receive" pays: the
                            seller asks for its routing label first, the buyer walks to it
  --accounts LIST           accounts on disk for the memory and lifecycle measurements, one
                            server each (default 10000,50000)
  --only LIST               comma-separated subset of ${MEASUREMENTS.join(",")}
  --profile DIR             servers write --cpu-prof profiles into DIR (summarize them with
                            deno run --allow-read bench/cpuprofile_top.ts DIR/*.cpuprofile)
  --json                    print every figure and ratio by name, as JSON (the table goes to
                            stderr then)`;

/** A ratio of two figures of the run, by name, for the table and for `--json`. */
interface Ratio {
  name: string;
  value: number;
  /** How the table shows it, e.g. "0.62× TCP". */
  shown: string;
}

/** One row of the table; `name` is its figure's name in `--json`. */
interface Row {
  name: string;
  measurement: string;
  concurrency?: number;
  result: string;
  /** The result as a number in `unit`, for `--json`. */
  value: number;
  unit: "/s" | "MiB" | "s";
  measured?: Measured;
  ratios?: Ratio[];
  target?: string;
  met?: boolean;
}

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: "string", default: "4" },
      concurrency: { type: "string", default: "16" },
      "payment-concurrency": { type: "string", default: "4" },
      hops: { type: "string", default: "1,3,6" },
      walk: { type: "boolean", default: false },
      accounts: { type: "string", default: "10000,50000" },
      only: { type: "string", default: MEASUREMENTS.join(",") },
      profile: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  const check = (name: string, value: number) => {
    if (!(value > 0 && value <= 1_000_000)) throw new Error(`--${name} must be a positive number`);
    return value;
  };
  const positive = (name: "seconds" | "concurrency" | "payment-concurrency") =>
    check(name, Number(values[name]));
  const only = new Set(values.only.split(","));
  for (const name of only) {
    if (!MEASUREMENTS.includes(name)) throw new Error(`--only: unknown measurement ${name}`);
  }
  return {
    help: values.help,
    seconds: positive("seconds"),
    concurrency: Math.ceil(positive("concurrency")),
    paymentConcurrency: Math.ceil(positive("payment-concurrency")),
    paymentHops: [
      ...new Set(values.hops.split(",").map((n) => Math.ceil(check("hops", Number(n))))),
    ]
      .map((n) => {
        if (n > 9) throw new Error("--hops: at most 9 (the servers take 127.0.0.31–40)");
        return n;
      }),
    accounts: values.accounts.split(",").slice(0, 4).map((n) =>
      Math.ceil(check("accounts", Number(n)))
    ),
    paymentWalk: values.walk,
    only,
    profile: values.profile,
    json: values.json,
  };
}

const count = (n: number) => Math.round(n).toLocaleString("en-US");
const times = (x: number) => `${x.toFixed(2)}×`;
const mib = (kib: number) => kib / 1024;

function timed(name: string, measurement: string, concurrency: number, measured: Measured): Row {
  const errors = measured.errors > 0 ? ` (${measured.errors} errors)` : "";
  return {
    name,
    measurement,
    concurrency,
    result: `${count(measured.rate)} /s${errors}`,
    value: measured.rate,
    unit: "/s",
    measured,
  };
}

function memory(name: string, measurement: string, kib: number): Row {
  return { name, measurement, result: `${mib(kib).toFixed(1)} MiB`, value: mib(kib), unit: "MiB" };
}

function duration(name: string, measurement: string, seconds: number): Row {
  return { name, measurement, result: `${seconds.toFixed(2)} s`, value: seconds, unit: "s" };
}

/** `a / b` as a ratio named `name`, or nothing when `b` was not measured in this run. */
function ratio(name: string, a: number, b: number | undefined, what: string): Ratio[] {
  if (b === undefined) return [];
  return [{ name, value: a / b, shown: `${times(a / b)} ${what}` }];
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
  const ms = (x?: number) => x === undefined || Number.isNaN(x) ? "" : x.toFixed(2);
  const lines = [
    "| measurement | conc. | result | p50 ms | p99 ms | CPU cores: servers / load / machine | ratio | target | met |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
  ];
  for (const r of rows) {
    const met = r.met === undefined ? "" : r.met ? "yes" : "**no**";
    const ratios = (r.ratios ?? []).map((x) => x.shown).join(", ");
    lines.push(
      `| ${r.measurement} | ${r.concurrency ?? ""} | ${r.result} | ${ms(r.measured?.p50)} | ` +
        `${ms(r.measured?.p99)} | ${cpu(r.measured)} | ${ratios} | ${r.target ?? ""} | ` +
        `${met} |`,
    );
  }
  return lines.join("\n");
}

/** Every figure and ratio by name, with the run's settings, for comparing runs across commits. */
function json(rows: Row[], settings: Record<string, unknown>): string {
  const figures: Record<string, unknown> = {};
  const ratios: Record<string, number> = {};
  const targets: Record<string, { target: string; met: boolean }> = {};
  for (const r of rows) {
    const m = r.measured;
    figures[r.name] = {
      measurement: r.measurement,
      value: Number(r.value.toFixed(3)),
      unit: r.unit,
      ...(r.concurrency === undefined ? {} : { concurrency: r.concurrency }),
      ...(m === undefined ? {} : {
        p50Ms: Number(m.p50.toFixed(3)),
        p99Ms: Number(m.p99.toFixed(3)),
        errors: m.errors,
        cpu: {
          servers: Number(m.cpu.children.reduce((sum, c) => sum + c, 0).toFixed(3)),
          load: Number(m.cpu.load.toFixed(3)),
          machine: Number(m.cpu.machine.toFixed(3)),
        },
      }),
    };
    for (const x of r.ratios ?? []) ratios[x.name] = Number(x.value.toFixed(4));
    if (r.target !== undefined && r.met !== undefined) {
      targets[r.name] = { target: r.target, met: r.met };
    }
  }
  return JSON.stringify({ settings, figures, ratios, targets }, null, 2);
}

/** The limits of this run that the commands are compared with; those not measured are undefined. */
interface LimitFigures {
  tcp?: number;
  tcpOneP50?: number;
  chain?: number;
  durable?: number;
}

async function limitRows(env: Env, rows: Row[]): Promise<LimitFigures> {
  if (!env.only.has("limits")) return {};
  const { tcpOne, tcp, tcpTwo, chain, durable } = await limits(env);
  const c = env.concurrency;
  rows.push(
    timed(
      "tcp_one_client",
      "limit: raw TCP to an echo process (connect, write 389 B, read 35 B, close), one client",
      1,
      tcpOne,
    ),
    timed("tcp_one_thread", "limit: raw TCP as above, from one load thread", c, tcp),
    timed("tcp_two_threads", "limit: raw TCP as above, from two load threads", c, tcpTwo),
    timed(
      "tcp_chain",
      `limit: chains of ${WRITE_EXCHANGES} raw TCP exchanges as above, one after another, two load threads`,
      c,
      chain,
    ),
    timed(
      "durable",
      "limit: durable small-file write (temp, fdatasync, rename, fsync dir)",
      c,
      durable,
    ),
  );
  // The better of the two is the limit: the commands are not bound by the load thread.
  return {
    tcp: Math.max(tcp.rate, tcpTwo.rate),
    tcpOneP50: tcpOne.p50,
    chain: chain.rate,
    durable: durable.rate,
  };
}

async function commandRows(env: Env, rows: Row[], limit: LimitFigures) {
  if (!["read-unset", "read", "write", "sync"].some((name) => env.only.has(name))) return [];
  const { readUnset, read, readOne, readOneWebCrypto, write, sync, peaks } = await clientCommands(
    env,
  );
  const c = env.concurrency;
  const vsTcp = (name: string, rate: number) => ratio(name, rate, limit.tcp, "TCP");
  if (readUnset) {
    const ratios = vsTcp("read_unset_vs_tcp", readUnset.rate);
    rows.push({
      ...timed(
        "read_unset",
        "client 4 get trustline out, trustline never set (its files missing)",
        c,
        readUnset,
      ),
      ratios,
      target: "≥ 0.60× TCP",
      met: ratios[0] === undefined ? undefined : ratios[0].value >= 0.6,
    });
  }
  if (readOne) {
    const ratios = ratio("read_one_client_p50_vs_tcp", readOne.p50, limit.tcpOneP50, "TCP p50");
    rows.push({
      ...timed("read_one_client", "client 4 get trustline out (read), one client", 1, readOne),
      ratios,
      target: "p50 ≤ 1.5× TCP p50",
      met: ratios[0] === undefined ? undefined : ratios[0].value <= 1.5,
    });
  }
  if (readOneWebCrypto) {
    rows.push({
      ...timed(
        "read_one_client_webcrypto",
        "same, the load client signing and checking with WebCrypto (the client library's default)",
        1,
        readOneWebCrypto,
      ),
      ratios: ratio(
        "read_one_client_webcrypto_p50_vs_tcp",
        readOneWebCrypto.p50,
        limit.tcpOneP50,
        "TCP p50",
      ),
    });
  }
  if (read) {
    const ratios = vsTcp("read_vs_tcp", read.rate);
    rows.push({
      ...timed("read", "client 4 get trustline out (read)", c, read),
      ratios,
      target: "≥ 0.60× TCP",
      met: ratios[0] === undefined ? undefined : ratios[0].value >= 0.6,
    });
  }
  if (write) {
    const ratios = [
      ...ratio("write_vs_tcp_chain", write.rate, limit.chain, `TCP chain of ${WRITE_EXCHANGES}`),
      ...vsTcp("write_vs_tcp", write.rate),
      ...ratio("write_vs_durable", write.rate, limit.durable, "durable"),
    ];
    rows.push({
      ...timed("write", "client 0 set trustline (write)", c, write),
      ratios,
      target: `≥ 0.50× TCP chain of ${WRITE_EXCHANGES}`,
      met: ratios[0]?.name === "write_vs_tcp_chain" ? ratios[0].value >= 0.5 : undefined,
    });
  }
  if (sync) {
    rows.push(
      timed(
        "sync",
        "trustline sync round trip (set; client 4 until counter = sync_out)",
        c,
        sync,
      ),
    );
  }
  return peaks;
}

async function run(env: Env, accounts: number[]): Promise<Row[]> {
  const rows: Row[] = [];
  const limit = await limitRows(env, rows);
  const peaks = await commandRows(env, rows, limit);
  if (env.only.has("payments")) {
    const paid = await payments(env);
    for (const { hops, concurrency, walk, measurement } of paid.results) {
      const name = `payment, ${hops} hop${hops > 1 ? "s" : ""} (${hops + 1} servers)${
        walk ? ", the buyer walks to the seller's label" : ""
      }`;
      const figure = `payment_${hops}_hops_${concurrency}${walk ? "_walk" : ""}`;
      const row = timed(figure, name, concurrency, measurement);
      const target = hops === 6 && concurrency === 1;
      rows.push(target ? { ...row, target: "p50 < 50 ms", met: measurement.p50 < 50 } : row);
    }
    peaks.push(...paid.peaks);
  }
  if (env.only.has("idle")) {
    const flood = await idleFlood(env);
    rows.push(...idleRows(flood, env.concurrency));
    peaks.push(...flood.peaks);
  }
  for (const peak of peaks) {
    rows.push(
      memory(
        `peak_rss_${peak.role.replaceAll(" ", "_")}_${peak.server.split(":")[0]}`,
        `peak RSS, ${peak.role} server ${peak.server}`,
        peak.kib,
      ),
    );
  }
  if (env.only.has("accounts")) {
    const results: ManyAccountsResult[] = [];
    for (const [i, n] of accounts.entries()) results.push(await manyAccounts(env, n, i));
    rows.push(...manyAccountRows(results, env.concurrency));
  }
  return rows;
}

function idleRows(flood: IdleFloodResults, concurrency: number): Row[] {
  const rows: Row[] = [
    timed(
      "idle_quiet",
      "client 7 get payment, one server, no flood (for the rows below)",
      concurrency,
      flood.quiet,
    ),
  ];
  for (const [i, { case: c, measured, floodRate, floodOpen }] of flood.flooded.entries()) {
    const settings = c.args.length === 0 ? "default limits" : c.args.join(" ");
    const reopened = c.reopenAfterMs === 0
      ? "each reopened at once: a connection flood"
      : `each reopened ${c.reopenAfterMs / 1000} s after the server closed it`;
    const row = timed(
      `idle_flood_${i + 1}`,
      `same, ${count(FLOOD)} idle connections held from one other address, ${reopened} ` +
        `(${settings}; the flood connected ${count(floodRate)}/s, ${count(floodOpen)} open ` +
        `at its end)`,
      concurrency,
      measured,
    );
    const ratios = ratio(
      `idle_flood_${i + 1}_p99_vs_quiet`,
      measured.p99,
      flood.quiet.p99,
      "quiet p99",
    );
    rows.push(
      c.target
        ? {
          ...row,
          ratios,
          target: "p99 < 1 s",
          met: measured.errors === 0 && measured.p99 < 1_000,
        }
        : { ...row, ratios },
    );
  }
  return rows;
}

function manyAccountRows(results: ManyAccountsResult[], concurrency: number): Row[] {
  const rows: Row[] = [];
  const smallest = results[0];
  for (const many of results) {
    const n = many.accounts;
    const accounts = count(n);
    const few = many.fewAccounts;
    const after = mib(many.peakAfterAll);
    const rssTarget = n === smallest.accounts
      ? { target: "< 100 MB", met: many.peakAfterAll * 1024 < 100e6 }
      : {
        target: `≤ the ${count(smallest.accounts)} figure`,
        met: many.peakAfterAll <= smallest.peakAfterAll * 1.05,
      };
    rows.push(
      duration(
        `start_${n}`,
        `start (process start to first accepted connection), ${accounts} accounts on disk`,
        many.startSeconds,
      ),
      memory(`peak_rss_${n}_at_start`, `peak RSS, same, at start`, many.peakAtStart),
      memory(
        `peak_rss_${n}_after_few`,
        `peak RSS, same, after ${many.fewRequests} requests to ${few} of them`,
        many.peakAfterFew,
      ),
      timed(
        `get_payment_${n}`,
        `client 7 get payment, ${few} of ${accounts} accounts on disk`,
        few,
        many.load,
      ),
      memory(`peak_rss_${n}_after_load`, `peak RSS, same, after that load`, many.peakAfterLoad),
      {
        ...memory(
          `peak_rss_${n}_after_all`,
          `peak RSS, same, after one request to each of the ${accounts} ` +
            `(${many.allSeconds.toFixed(1)} s)`,
          many.peakAfterAll,
        ),
        concurrency,
        ratios: ratio(
          `rss_${n}_vs_${smallest.accounts}`,
          after,
          mib(smallest.peakAfterAll),
          `${count(smallest.accounts)} accounts`,
        ),
        ...rssTarget,
      },
      {
        ...duration(`stop_${n}`, `stop (SIGTERM to exit) after that`, many.stopSeconds),
        target: "< 2 s",
        met: many.stopSeconds < 2,
      },
      {
        ...duration(
          `start_${n}_full_journal`,
          `start, ${accounts} accounts and a full journal (${
            (many.journalBytes / 2 ** 20).toFixed(1)
          } MiB of change sets)`,
          many.startFullSeconds,
        ),
        target: "< 2 s",
        met: many.startFullSeconds < 2,
      },
      {
        ...duration(
          `stop_${n}_full_journal`,
          "stop 2.5 s after that start (its first checkpoint writing)",
          many.stopFullSeconds,
        ),
        target: "< 2 s",
        met: many.stopFullSeconds < 2,
      },
    );
  }
  return rows;
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
      paymentHops: options.paymentHops,
      paymentWalk: options.paymentWalk,
      only: options.only,
      signal: interrupted.signal,
      profileDir: options.profile,
      progress: (message) =>
        console.error(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${message}`),
    }, options.accounts);
    const settings = {
      finished: new Date().toISOString(),
      seconds: options.seconds,
      concurrency: options.concurrency,
      paymentConcurrency: options.paymentConcurrency,
      paymentHops: options.paymentHops,
      paymentWalk: options.paymentWalk,
      accounts: options.accounts,
      only: [...options.only],
      profile: options.profile !== undefined,
    };
    if (options.json) {
      // The table too, on stderr, so that one run gives both.
      console.error(table(rows));
      console.log(json(rows, settings));
    } else {
      console.log(table(rows));
    }
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
