/** One simulation run: a random network, a random workload under faults, then the checks. */

import type { Limits } from "../core/config.ts";
import type { FileSystem } from "../store/fs.ts";
import { checkCrashAtRest, type DiskFaults, type DiskStats, NO_DISK_FAULTS } from "./disk.ts";
import { type HostileOptions, NO_HOSTILE } from "./hostile.ts";
import { checkQuiet, LiveChecks, type Model, type PaymentOutcomes } from "./invariants.ts";
import { Random } from "./random.ts";
import { Strangers } from "./strangers.ts";
import { generateTopology } from "./topology.ts";
import type { NetworkStats } from "./network.ts";
import { Workload } from "./workload.ts";
import {
  type Faults,
  NO_FAULTS,
  SIM_DATADIR,
  SIM_EPOCH,
  type SimServer,
  SimWorld,
  type Violation,
} from "./world.ts";

/** What a run is made of; everything follows from these and the seed. */
export interface SimOptions {
  seed: number;
  servers: number;
  accounts: number;
  /** Average peers per account. */
  degree: number;
  /** Client operations in the workload. */
  steps: number;
  /** Share of the operations that are payments; the rest change trustlines. */
  paymentShare: number;
  faults: Faults;
  /** The disks' own faults: I/O errors, full disks, lost directories. */
  disk: DiskFaults;
  /** Mean simulated time between two operations. */
  stepEveryMs: number;
  /** Limits of every server; the simulator's defaults are shorter than production's. */
  limits: Partial<Limits>;
  /** Simulated time allowed for the network to go quiet after the workload. */
  quietWithinMs: number;
  /** Plants a bug in each new node (for showing that the checks catch one). */
  onStart?: (server: SimServer) => void;
  /** Plants a storage bug between each node and its disk. */
  wrapDisk?: (fs: FileSystem, server: SimServer) => FileSystem;
  /** Receives every server's log lines. */
  onLog?: (address: string, line: string) => void;
  /** Hostile servers, and their behaviours. */
  hostile: HostileOptions;
  /**
   * With hostile servers: also run the same seed without attacks, and compare how many
   * payments between honest accounts, away from hostile servers, completed.
   */
  compareHonest: boolean;
  /**
   * The run without attacks: with the same servers passing everything on (`behaving`), whose
   * paths then carry payments that the run with attacks must route over honest servers once
   * it has learnt to avoid them; or as if the hostile servers were not there (`untrusted`:
   * nobody extends credit to or from their accounts, so no path passes them).
   */
  baseline: "untrusted" | "behaving";
  /**
   * The workload's payments carry the seller's receipt (docs/protocol.md §6): ids made from
   * a secret, and the buyer demands it. Off, a hop lying committed makes the buyer pay.
   */
  receipts: boolean;
}

/**
 * The simulator's limits: production's, but for the deadlines after the commit, which are
 * hours and days there and minutes here, so that a run reaches the end of every release
 * (docs/protocol.md §9) within its quiet time.
 */
export const SIM_LIMITS: Partial<Limits> = {
  commitDeadlineMs: 15 * 60_000,
  commitMarginMs: 15_000,
  releasePeriodMs: 20 * 60_000,
  releaseChunkMs: 60_000,
  releaseGraceMs: 5_000,
  queryRetryMaxMs: 10_000,
};

/** The defaults of `deno task sim`. */
export const DEFAULT_SIM: SimOptions = {
  seed: 1,
  servers: 5,
  accounts: 20,
  degree: 3,
  steps: 200,
  paymentShare: 0.5,
  faults: NO_FAULTS,
  disk: NO_DISK_FAULTS,
  stepEveryMs: 50,
  limits: SIM_LIMITS,
  quietWithinMs: 2 * 60 * 60 * 1000,
  hostile: NO_HOSTILE,
  compareHonest: true,
  baseline: "behaving",
  receipts: true,
};

/** What a run found. */
export interface SimReport {
  seed: number;
  violations: Violation[];
  quiet: boolean;
  /** Simulated milliseconds from start to quiet. */
  simulatedMs: number;
  stats: NetworkStats;
  disk: DiskStats;
  operations: { trustlines: number; payments: number; refused: number; uncertain: number };
  payments: PaymentOutcomes & {
    /** Server datagrams of each payment that reached an end (search and steps). */
    datagrams: number[];
  };
  /** Payments between honest accounts whose path avoided the hostile servers. */
  honest: HonestFigures;
}

/** How payments between honest accounts fared, away from hostile servers. */
export interface HonestFigures {
  /** Workload steps of the payments whose path touched no hostile server, and whether each completed. */
  untouched: Map<number, boolean>;
  /** Of those that failed, how many for each reason (the buyer's reason byte). */
  failures: Record<number, number>;
  /** With {@linkcode SimOptions.compareHonest}: the same steps' outcomes without attacks. */
  baseline?: Map<number, boolean>;
  /** And the failure reasons of that run's payments away from hostile servers. */
  baselineFailures?: Record<number, number>;
  /** Completed with attacks over completed without, among the steps both runs made. */
  ratio?: number;
  /** What each behaviour of the attackers did (datagrams dropped, held, made up). */
  attacks: Record<string, number>;
  /**
   * Records at honest accounts that ended after their deadline or claim time: ms from the
   * commit to their end (docs/protocol.md §9).
   */
  stalledEnds: number[];
}

/** Completion with attacks must stay at this share of completion without. */
export const HONEST_COMPLETION = 0.95;
/**
 * Fewer comparable payments than this make the ratio chance, not a finding, whether of one
 * seed or of several judged together ({@linkcode honestCompletion}). Two runs of a seed
 * without attacks that differ only in the network's delays differ in this ratio by about
 * ±0.04 (one standard deviation) at 270 comparable payments (docs/simulator.md); at 2,500,
 * by the square-root rule, about ±0.015.
 */
export const HONEST_MINIMUM = 2_500;

const CHECK_EVERY_MS = 2_000;

/** Runs one simulation and checks every invariant; the report lists what broke. */
async function runOnce(options: SimOptions): Promise<SimReport> {
  const random = new Random(options.seed);
  const world = new SimWorld({
    random: random.fork(),
    faults: options.faults,
    limits: options.limits,
    onStart: options.onStart,
    onLog: options.onLog,
    disk: options.disk,
    wrapDisk: options.wrapDisk,
  });
  const start = world.clock.now();
  const topology = await generateTopology(world, random.fork(), options);
  for (const address of topology.addresses) await world.start(address);
  const workloadRandom = random.fork();
  const strangers = new Strangers(world, topology, random.fork(), options.hostile, options.limits);
  const workload = new Workload(world, topology, workloadRandom, options, strangers);
  const live = new LiveChecks(world, topology);

  const stepsFrom = workload.schedule();
  world.clock.setTimer(stepsFrom, () => strangers.startAttacks());
  world.startCrashes();
  world.disks.start();
  let checking = true;
  const check = () => {
    if (!checking) return;
    Promise.all([live.check(), strangers.check()])
      .catch((error) => world.violate("check-failed", String(error)));
    world.clock.setTimer(CHECK_EVERY_MS, check);
  };
  world.clock.setTimer(CHECK_EVERY_MS, check);
  await world.runUntil(workload.finished, options.quietWithinMs);
  checking = false;
  strangers.stopAttacks();

  world.stopCrashes();
  world.disks.stop();
  world.faults = { ...options.faults, loss: 0, duplicate: 0, reorder: 0, crashEveryMs: 0 };
  const quiet = await world.runUntilQuiet(options.quietWithinMs);
  if (!quiet) world.violate("not-quiet", "events were still pending when the time ran out");
  const simulatedMs = world.clock.now() - start;
  await live.check();
  await strangers.check();
  const outcomes = await checkQuiet(world, topology, workload.model, (i) => strangers.honest(i));
  const honest = await honestFigures(strangers, workload.model);
  const datagrams = workload.model.payments.map((p) => world.traffic.get(p.idHex))
    .filter((t) => t !== undefined).map((t) => t.search + t.payment);
  await checkCrashAtRest(world, `${SIM_DATADIR}/ripple`, options.quietWithinMs);
  await world.close();
  return {
    seed: options.seed,
    violations: world.violations,
    quiet,
    simulatedMs,
    stats: world.stats,
    disk: world.disks.stats,
    operations: workload.counts,
    payments: { ...outcomes, datagrams },
    honest,
  };
}

/**
 * Runs one simulation; with hostile servers that misbehave, also the same seed without
 * attacks ({@linkcode SimOptions.baseline}), and checks that payments between honest
 * accounts away from them still complete at {@linkcode HONEST_COMPLETION} of the rate.
 */
export async function runSimulation(options: SimOptions): Promise<SimReport> {
  const report = await runOnce(options);
  const attacking = options.hostile.servers > 0 && options.hostile.behaviours.length > 0;
  if (!attacking || !options.compareHonest) return report;
  const calm = await runOnce({
    ...options,
    hostile: { ...options.hostile, behaviours: [], untrusted: options.baseline === "untrusted" },
    onStart: undefined,
    onLog: undefined,
  });
  report.honest.baseline = calm.honest.untouched;
  report.honest.baselineFailures = calm.honest.failures;
  const { withAttacks, without, comparable, ratio } = honestCompletion([report]);
  report.honest.ratio = ratio;
  if (comparable >= HONEST_MINIMUM && ratio < HONEST_COMPLETION) {
    report.violations.push({
      at: SIM_EPOCH + report.simulatedMs,
      invariant: "honest-completion",
      detail: `${withAttacks} of ${comparable} payments away from hostile servers completed ` +
        `with attacks, ${without} without (ratio ${ratio.toFixed(3)})`,
    });
  }
  return report;
}

/**
 * The honest completion of several runs taken together: payments away from hostile servers
 * completed with attacks over those completed without, among the steps both runs made.
 */
export function honestCompletion(
  reports: SimReport[],
): { withAttacks: number; without: number; comparable: number; ratio: number } {
  let withAttacks = 0, without = 0, comparable = 0;
  for (const { honest } of reports) {
    if (honest.baseline === undefined) continue;
    for (const [step, completed] of honest.untouched) {
      if (!honest.baseline.has(step)) continue;
      comparable++;
      if (completed) withAttacks++;
      if (honest.baseline.get(step)) without++;
    }
  }
  return { withAttacks, without, comparable, ratio: without === 0 ? 1 : withAttacks / without };
}

async function honestFigures(strangers: Strangers, model: Model): Promise<HonestFigures> {
  const untouched = new Map<number, boolean>();
  const failures: Record<number, number> = {};
  for (const payment of model.payments) {
    if (await strangers.touched(payment)) continue;
    untouched.set(payment.step, payment.completed!);
    if (payment.reason) failures[payment.reason] = (failures[payment.reason] ?? 0) + 1;
  }
  const attacks: Record<string, number> = {};
  for (const server of strangers.servers) {
    for (const [behaviour, count] of Object.entries(server.counts)) {
      attacks[behaviour] = (attacks[behaviour] ?? 0) + count;
    }
  }
  return { untouched, failures, attacks, stalledEnds: await strangers.stalledEnds() };
}
