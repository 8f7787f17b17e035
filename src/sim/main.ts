/** `deno task sim`: simulation runs from the shell, with the seed and the command that replays a failure. */

import { DEFAULT_LIMITS } from "../core/config.ts";
import { parseCommand, stringOption, UsageError } from "../cli/args.ts";
import { DISK_HELP, DISK_OPTIONS, diskFlags, diskSummary, parseDiskFaults } from "./disk.ts";
import { type PathStudy, studyLimits } from "./paths.ts";
import { type Behaviour, BEHAVIOURS, NO_HOSTILE } from "./hostile.ts";
import {
  DEFAULT_SIM,
  HONEST_COMPLETION,
  HONEST_MINIMUM,
  honestCompletion,
  type SimOptions,
  type SimReport,
} from "./run.ts";
import { runSeedTasks, type SeedTask } from "./seeds.ts";
import { NO_FAULTS, SIM_EPOCH } from "./world.ts";

const HELP = `Usage: deno task sim [OPTIONS]

Runs complete ripple servers in one process on a simulated network and clock, with a
random workload and injected faults, then checks that the books agree everywhere. One
seed fixes the whole run: a failure prints the command that replays it exactly.

Options:
  --seed S            first seed (default 1)
  --seeds N           run N seeds, S to S+N-1 (default 1)
  --jobs N            seeds run at once, each in a worker of its own (default: one per
                      core, at most the seeds; 1: one after another in this process).
                      Each seed is the same either way; workers need read access to
                      the simulator's sources (the tasks give --allow-read=src)
  --servers N         servers (default ${DEFAULT_SIM.servers})
  --accounts N        accounts, spread over the servers (default ${DEFAULT_SIM.accounts})
  --degree N          average peers per account (default ${DEFAULT_SIM.degree})
  --steps K           client operations (default ${DEFAULT_SIM.steps})
  --payments P        share of operations that are payments, 0 to 1 (default ${DEFAULT_SIM.paymentShare})
  --step-every-ms T   mean simulated time between two operations (default ${DEFAULT_SIM.stepEveryMs})
  --loss P            chance a server datagram is lost (default 0)
  --duplicate P       chance a server datagram arrives twice (default 0)
  --reorder P         chance a datagram may be overtaken by the next (default 0)
  --delay-ms MIN-MAX  one-way delay (default ${NO_FAULTS.delayMs.join("-")})
  --crash-every-ms T  mean time between server crashes, 0 for none (default 0)
  --down-ms MIN-MAX   how long a crashed server stays down (default ${NO_FAULTS.downMs.join("-")})
  --torn P            chance a crash tears a file's unsynced tail (default 0)
  --faults            shorthand: --loss 0.1 --duplicate 0.05 --reorder 0.1 --delay-ms 1-20
                      --crash-every-ms 10000 --torn 0.3
${DISK_HELP}
  --hostile N         make N servers hostile (the seed chooses which); payments between
                      honest accounts avoiding them are compared with the same seed run
                      without attacks (default 0)
  --behaviours LIST   what hostile servers do, comma-separated (default all):
                      ${BEHAVIOURS.join(", ")}
  --attack-every-ms T mean time between two attacks of each flood or replay (default ${NO_HOSTILE.attackEveryMs})
  --no-compare        with --hostile: skip the run without attacks
  --baseline B        with --hostile, the run without attacks: behaving (the hostile
                      servers pass everything on; the default) or untrusted (nobody extends
                      credit to or from their accounts, as if they were not there)
  --no-receipts       the workload's payments without the seller's receipt (ids not made
                      from a secret, buyers not demanding it): a hop lying committed is
                      then believed
  --paths N           instead: a path-finding study of N buyer/seller pairs, each compared
                      with a breadth-first search over the same capacities
  --credit C          path study: trustlines of 0 to C, payments of 10 (default 100)
  --label-trees N     routing-label trees, 0 to 3 (default 3; 0: no walk, the flood alone)
  --walk-wait-ms T    how long a seller holds its flood back for the walk (its rounds paced
                      over as long again), and half of how long the buyer starts walks by
                      other trees (default ${DEFAULT_LIMITS.walkWaitMs})
  --peer-held-up N    payments a neighbour may hold up before none pass through towards it
                      (default 1; 0: off)
  --peer-waiting N    payments a neighbour may keep answering only waiting past 10 s before
                      none pass through towards it (default 2; 0: off)
  --peer-slow-locks N locks a neighbour may leave unanswered past 3 s before none pass
                      through towards it (default 2; 0: off)
  --log               print every server's log lines, with simulated time and address
  --no-shrink         on a failure, do not look for fewer steps that still fail
  --json              one JSON report per seed

Exit status: 0 when every invariant held for every seed, 1 when one broke, 2 on a usage error.`;

const OPTIONS = {
  seed: { type: "string" },
  seeds: { type: "string" },
  jobs: { type: "string" },
  servers: { type: "string" },
  accounts: { type: "string" },
  degree: { type: "string" },
  steps: { type: "string" },
  payments: { type: "string" },
  "step-every-ms": { type: "string" },
  loss: { type: "string" },
  duplicate: { type: "string" },
  reorder: { type: "string" },
  "delay-ms": { type: "string" },
  "crash-every-ms": { type: "string" },
  "down-ms": { type: "string" },
  torn: { type: "string" },
  faults: { type: "boolean" },
  hostile: { type: "string" },
  behaviours: { type: "string" },
  "attack-every-ms": { type: "string" },
  "no-compare": { type: "boolean" },
  baseline: { type: "string" },
  "no-receipts": { type: "boolean" },
  paths: { type: "string" },
  credit: { type: "string" },
  "label-trees": { type: "string" },
  "walk-wait-ms": { type: "string" },
  "peer-held-up": { type: "string" },
  "peer-waiting": { type: "string" },
  "peer-slow-locks": { type: "string" },
  "no-shrink": { type: "boolean" },
  log: { type: "boolean" },
  json: { type: "boolean" },
  ...DISK_OPTIONS,
} as const;

/** The faults `--faults` stands for. */
export const STANDARD_FAULTS = {
  loss: 0.1,
  duplicate: 0.05,
  reorder: 0.1,
  delayMs: [1, 20] as [number, number],
  crashEveryMs: 10_000,
  downMs: NO_FAULTS.downMs,
  torn: 0.3,
};

/** Parses the command line into run options; throws {@linkcode UsageError}. */
export function parseSimArgs(
  argv: string[],
): {
  options: SimOptions;
  seeds: number;
  jobs: number;
  paths: number;
  credit: number;
  shrink: boolean;
  json: boolean;
} | null {
  const parsed = parseCommand(argv, OPTIONS, HELP, [0, 0]);
  if (parsed === null) return null;
  const number = (name: string, fallback: number, max = Number.MAX_SAFE_INTEGER) => {
    const text = stringOption(parsed, name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || value < 0 || value > max) {
      throw new UsageError(`--${name} must be a number from 0 to ${max}, not "${text}"`);
    }
    return value;
  };
  const whole = (name: string, fallback: number) => {
    const value = number(name, fallback);
    if (!Number.isInteger(value)) throw new UsageError(`--${name} must be a whole number`);
    return value;
  };
  const range = (name: string, fallback: [number, number]): [number, number] => {
    const text = stringOption(parsed, name);
    if (text === undefined) return fallback;
    const match = /^(\d+)-(\d+)$/.exec(text);
    if (match === null || Number(match[1]) > Number(match[2])) {
      throw new UsageError(`--${name} must be MIN-MAX in milliseconds, like 1-20, not "${text}"`);
    }
    return [Number(match[1]), Number(match[2])];
  };
  const base = parsed.values.faults === true ? STANDARD_FAULTS : NO_FAULTS;
  const options: SimOptions = {
    ...DEFAULT_SIM,
    seed: whole("seed", DEFAULT_SIM.seed),
    servers: Math.max(1, whole("servers", DEFAULT_SIM.servers)),
    accounts: Math.max(2, whole("accounts", DEFAULT_SIM.accounts)),
    degree: number("degree", DEFAULT_SIM.degree),
    steps: whole("steps", DEFAULT_SIM.steps),
    paymentShare: number("payments", DEFAULT_SIM.paymentShare, 1),
    stepEveryMs: whole("step-every-ms", DEFAULT_SIM.stepEveryMs),
    faults: {
      loss: number("loss", base.loss, 1),
      duplicate: number("duplicate", base.duplicate, 1),
      reorder: number("reorder", base.reorder, 1),
      delayMs: range("delay-ms", base.delayMs),
      crashEveryMs: whole("crash-every-ms", base.crashEveryMs),
      downMs: range("down-ms", base.downMs),
      torn: number("torn", base.torn, 1),
    },
    disk: parseDiskFaults({ number, whole, range, flag: (name) => parsed.values[name] === true }),
  };
  if (options.faults.loss >= 1) throw new UsageError("--loss must be below 1");
  const behaviours = stringOption(parsed, "behaviours")?.split(",").map((b) => b.trim()) ??
    NO_HOSTILE.behaviours;
  for (const behaviour of behaviours) {
    if (!(BEHAVIOURS as readonly string[]).includes(behaviour)) {
      throw new UsageError(
        `--behaviours: unknown behaviour "${behaviour}"; the behaviours are ${
          BEHAVIOURS.join(", ")
        }`,
      );
    }
  }
  options.hostile = {
    servers: whole("hostile", 0),
    behaviours: behaviours as Behaviour[],
    attackEveryMs: Math.max(1, whole("attack-every-ms", NO_HOSTILE.attackEveryMs)),
    untrusted: false,
  };
  options.compareHonest = parsed.values["no-compare"] !== true;
  const baseline = stringOption(parsed, "baseline") ?? DEFAULT_SIM.baseline;
  if (baseline !== "untrusted" && baseline !== "behaving") {
    throw new UsageError(`--baseline: "${baseline}" is neither untrusted nor behaving`);
  }
  options.baseline = baseline;
  options.receipts = parsed.values["no-receipts"] !== true;
  if (parsed.values["peer-held-up"] !== undefined) {
    options.limits = { ...options.limits, peerHeldUp: whole("peer-held-up", 1) };
  }
  if (parsed.values["peer-waiting"] !== undefined) {
    options.limits = { ...options.limits, peerWaiting: whole("peer-waiting", 2) };
  }
  if (parsed.values["peer-slow-locks"] !== undefined) {
    options.limits = { ...options.limits, peerSlowLocks: whole("peer-slow-locks", 2) };
  }
  if (parsed.values["label-trees"] !== undefined) {
    options.limits = { ...options.limits, labelTrees: Math.min(3, whole("label-trees", 3)) };
  }
  if (parsed.values["walk-wait-ms"] !== undefined) {
    options.limits = {
      ...options.limits,
      walkWaitMs: whole("walk-wait-ms", DEFAULT_LIMITS.walkWaitMs),
    };
  }
  if (parsed.values.log === true) {
    options.onLog = (address, line) => console.log(`${address} ${line}`);
  }
  const seeds = Math.max(1, whole("seeds", 1));
  const jobs = parsed.values.jobs === undefined
    ? Math.min(seeds, navigator.hardwareConcurrency)
    : Math.max(1, whole("jobs", 1));
  // A log sink is a function, which cannot be sent to a worker: --log runs here.
  return {
    options,
    seeds,
    jobs: options.onLog === undefined ? jobs : 1,
    paths: whole("paths", 0),
    credit: whole("credit", 100),
    shrink: parsed.values["no-shrink"] !== true,
    json: parsed.values.json === true,
  };
}

/** The command line that replays one run. */
export function replayCommand(options: SimOptions): string {
  const f = options.faults;
  return [
    "deno task sim",
    `--seed ${options.seed} --servers ${options.servers} --accounts ${options.accounts}`,
    `--degree ${options.degree} --steps ${options.steps} --payments ${options.paymentShare}`,
    `--step-every-ms ${options.stepEveryMs}`,
    `--loss ${f.loss} --duplicate ${f.duplicate} --reorder ${f.reorder}`,
    `--delay-ms ${f.delayMs.join("-")} --crash-every-ms ${f.crashEveryMs}`,
    `--down-ms ${f.downMs.join("-")} --torn ${f.torn}`,
    diskFlags(options.disk),
    ...(options.hostile.servers > 0
      ? [
        `--hostile ${options.hostile.servers} --behaviours ${options.hostile.behaviours.join(",")}`,
        `--attack-every-ms ${options.hostile.attackEveryMs}`,
        ...(options.compareHonest ? [] : ["--no-compare"]),
        ...(options.baseline === DEFAULT_SIM.baseline ? [] : [`--baseline ${options.baseline}`]),
      ]
      : []),
    ...(options.receipts ? [] : ["--no-receipts"]),
    ...(options.limits.labelTrees === undefined
      ? []
      : [`--label-trees ${options.limits.labelTrees}`]),
    ...(options.limits.walkWaitMs === undefined
      ? []
      : [`--walk-wait-ms ${options.limits.walkWaitMs}`]),
    ...(options.limits.peerHeldUp === undefined
      ? []
      : [`--peer-held-up ${options.limits.peerHeldUp}`]),
    ...(options.limits.peerWaiting === undefined
      ? []
      : [`--peer-waiting ${options.limits.peerWaiting}`]),
    ...(options.limits.peerSlowLocks === undefined
      ? []
      : [`--peer-slow-locks ${options.limits.peerSlowLocks}`]),
  ].join(" ");
}

function summary(report: SimReport, realMs: number): string {
  const p = report.payments;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  return `seed ${report.seed}: ${report.violations.length === 0 ? "ok" : "FAILED"}, ` +
    `${report.stats.sent} datagrams (${report.stats.lost} lost, ${report.stats.duplicated} ` +
    `duplicated), ${report.stats.crashes} crashes, ${diskSummary(report.disk)}, ` +
    `payments ${p.completed} completed / ` +
    `${p.failed} failed, median ${median(p.datagrams)} datagrams and ${median(p.durations)} ms ` +
    `per payment; ${(report.simulatedMs / 1000).toFixed(0)} s simulated in ` +
    `${(realMs / 1000).toFixed(1)} s${honestSummary(report)}`;
}

/** With hostile servers: the honest payments away from them, with and without attacks. */
function honestSummary(report: SimReport): string {
  const { untouched, baseline, ratio, attacks } = report.honest;
  if (Object.keys(attacks).length === 0) return "";
  const completed = [...untouched.values()].filter((c) => c).length;
  const reasons = (failures: Record<number, number>) =>
    Object.entries(failures).map(([r, n]) => `reason ${r}: ${n}`).join(", ") || "none";
  const against = baseline === undefined
    ? ""
    : `, without attacks ${[...baseline.values()].filter((c) => c).length} of ${baseline.size}` +
      ` (ratio ${ratio!.toFixed(3)}; failed: ${reasons(report.honest.baselineFailures ?? {})})`;
  const done = Object.entries(attacks).map(([b, n]) => `${b} ${n}`).join(", ");
  const stalled = report.honest.stalledEnds;
  const ends = stalled.length === 0
    ? "none"
    : `${stalled.length}, ended ${
      [0.5, 0.99, 1].map((q) =>
        `${q === 1 ? "max" : `p${q * 100}`} ${seconds(quantile(stalled, q))}`
      )
        .join(" ")
    } after their commit`;
  return `\n  honest payments away from hostile servers: ${completed} of ${untouched.size} ` +
    `completed${against}; failed: ${reasons(report.honest.failures)}; attacks: ${done}` +
    `\n  records at honest accounts held up past their deadline: ${ends}; ` +
    `paid to honest accounts for waiting: ${report.payments.honestGain}`;
}

function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(0)} s`;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseSimArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`sim: ${error.message}\nRun "deno task sim --help" for usage.`);
    return 2;
  }
  if (parsed === null) return 0;
  const { options, seeds, paths, credit, json } = parsed;
  let jobs = parsed.jobs;
  if (jobs > 1 && !canRunWorkers()) {
    console.error(
      "sim: seeds run one after another: workers need read access to the sources " +
        '(run with --allow-read=src, as the tasks do, or give "--jobs 1")',
    );
    jobs = 1;
  }
  let failures = 0;
  let checks = seeds;
  const reports: SimReport[] = [];
  const started = performance.now();
  const tasks: SeedTask[] = [];
  const limits = studyLimits(options.limits);
  for (let seed = options.seed; seed < options.seed + seeds; seed++) {
    tasks.push(
      paths > 0
        ? {
          kind: "paths",
          options: { ...options, limits, seed, pairs: paths, credit },
        }
        : { kind: "sim", options: { ...options, seed }, shrink: parsed.shrink },
    );
  }
  await runSeedTasks(tasks, jobs, (result) => {
    if (result.kind === "paths") {
      const study = result.study;
      console.log(json ? JSON.stringify(study) : pathSummary(study, result.realMs));
      if (study.violations.length > 0 || study.unexpected > 0) failures++;
      return;
    }
    const report = result.report;
    reports.push(report);
    console.log(
      json
        ? JSON.stringify(
          report,
          (_, v) =>
            typeof v === "bigint" ? String(v) : v instanceof Map ? Object.fromEntries(v) : v,
        )
        : summary(report, result.realMs),
    );
    if (report.violations.length === 0) return;
    failures++;
    for (const v of report.violations.slice(0, 20)) {
      console.log(`  ${v.invariant} at ${v.at - SIM_EPOCH} ms: ${v.detail}`);
    }
    console.log(`  replay: ${replayCommand({ ...options, seed: report.seed })}`);
    if (result.smallest) console.log(`  smallest failing: ${replayCommand(result.smallest)}`);
  });
  if (reports.some((r) => r.honest.baseline !== undefined)) {
    const all = honestCompletion(reports);
    const enough = all.comparable >= HONEST_MINIMUM;
    const met = all.ratio >= HONEST_COMPLETION;
    console.log(
      `honest completion over all seeds: ${all.withAttacks} of ${all.comparable} payments away ` +
        `from hostile servers completed with attacks, ${all.without} without: ratio ` +
        `${all.ratio.toFixed(3)} (at least ${HONEST_COMPLETION}: ${
          !enough ? "too few payments to judge" : met ? "met" : "NOT MET"
        })`,
    );
    // The judgement over all seeds is one more check beside each seed's.
    checks++;
    if (enough && !met) failures++;
  }
  console.log(
    `${checks - failures} passed, ${failures} failed (${
      ((performance.now() - started) / 1000).toFixed(1)
    } s)`,
  );
  return failures === 0 ? 0 : 1;
}

/** Whether this process may load the simulator's modules into workers (read access to `src/`). */
function canRunWorkers(): boolean {
  const sources = new URL("..", import.meta.url);
  return Deno.permissions.querySync({ name: "read", path: sources }).state === "granted";
}

function pathSummary(study: PathStudy, realMs: number): string {
  const reachable = study.trials.filter((t) => t.shortest !== null);
  const completed = reachable.filter((t) => t.found !== null);
  const mean = (xs: number[]) => xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
  const longer = completed.filter((t) => t.found! > t.shortest!).length;
  return `seed ${study.seed}: breadth-first search finds a path for ${reachable.length} of ` +
    `${study.trials.length} pairs; the servers completed ${completed.length} ` +
    `(ratio ${study.successRatio.toFixed(3)}), ${study.unexpected} unexpected; ` +
    `${mean(study.trials.map((t) => t.searchDatagrams)).toFixed(0)} search datagrams per ` +
    `payment (walks ${mean(study.trials.map((t) => t.walkDatagrams)).toFixed(0)}; without ` +
    `the fallback ${
      mean(study.trials.filter((t) => !t.flooded).map((t) => t.searchDatagrams)).toFixed(0)
    }, ` +
    `with it ${
      mean(study.trials.filter((t) => t.flooded).map((t) => t.searchDatagrams)).toFixed(0)
    }; ` +
    `payments where the seller flooded ${
      study.trials.filter((t) => t.sellerFloodProbes > 0).length
    }); hops found ${mean(completed.map((t) => t.found!)).toFixed(2)} vs shortest ` +
    `${mean(completed.map((t) => t.shortest!)).toFixed(2)} (${longer} longer); ` +
    `fallback to the flood ${study.trials.filter((t) => t.flooded).length}; ` +
    `label datagrams per account at start ${study.labelsPerAccount.toFixed(1)}, per new peer ` +
    `(added beside the running servers) ${study.labelsPerNewPeer.toFixed(0)}, per trustline ` +
    `change across the narrow threshold ${study.labelsPerTrustlineChange.toFixed(0)}; ` +
    `pairs without a path ${study.noPath.pairs}, ended within 2 s with a no-path reason ` +
    `${study.noPath.endedPromptly}; walk ends ${JSON.stringify(study.walkEnds)}; ` +
    `${study.violations.length} violations; ${(realMs / 1000).toFixed(1)} s`;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
