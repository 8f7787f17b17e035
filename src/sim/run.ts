/** One simulation run: a random network, a random workload under faults, then the checks. */

import { toHex } from "../auth/keys.ts";
import { ClientError } from "../client/client.ts";
import * as api from "../client/commands.ts";
import type { Limits } from "../core/config.ts";
import { Status } from "../wire/response.ts";
import type { FileSystem } from "../store/fs.ts";
import { checkCrashAtRest, type DiskFaults, type DiskStats, NO_DISK_FAULTS } from "./disk.ts";
import { checkQuiet, LiveChecks, type Model, type PaymentOutcomes } from "./invariants.ts";
import { Random } from "./random.ts";
import { generateTopology, type SimAccount, type Topology } from "./topology.ts";
import type { NetworkStats } from "./network.ts";
import {
  type Faults,
  NO_FAULTS,
  SIM_DATADIR,
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
}

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
  limits: {},
  quietWithinMs: 2 * 60 * 60 * 1000,
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
}

const CHECK_EVERY_MS = 2_000;

/** Runs one simulation and checks every invariant; the report lists what broke. */
export async function runSimulation(options: SimOptions): Promise<SimReport> {
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
  const workload = new Workload(world, topology, random.fork(), options);
  const live = new LiveChecks(world, topology);

  workload.schedule();
  world.startCrashes();
  world.disks.start();
  let checking = true;
  const check = () => {
    if (!checking) return;
    live.check().catch((error) => world.violate("check-failed", String(error)));
    world.clock.setTimer(CHECK_EVERY_MS, check);
  };
  world.clock.setTimer(CHECK_EVERY_MS, check);
  await world.runUntil(workload.finished, options.quietWithinMs);
  checking = false;

  world.stopCrashes();
  world.disks.stop();
  world.faults = { ...options.faults, loss: 0, duplicate: 0, reorder: 0, crashEveryMs: 0 };
  const quiet = await world.runUntilQuiet(options.quietWithinMs);
  if (!quiet) world.violate("not-quiet", "events were still pending when the time ran out");
  const simulatedMs = world.clock.now() - start;
  await live.check();
  const outcomes = await checkQuiet(world, topology, workload.model);
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
  };
}

/** The random client operations of a run, and the model of what they should leave behind. */
class Workload {
  readonly model: Model = { trustlines: new Map(), payments: [] };
  readonly counts = { trustlines: 0, payments: 0, refused: 0, uncertain: 0 };
  #world: SimWorld;
  #topology: Topology;
  #random: Random;
  #options: SimOptions;
  /** Accounts with a client operation in progress: one at a time per account. */
  #busy = new Set<number>();
  #running = new Set<Promise<void>>();
  #done!: () => void;
  readonly finished = new Promise<void>((resolve) => this.#done = resolve);
  #left: number;

  constructor(world: SimWorld, topology: Topology, random: Random, options: SimOptions) {
    this.#world = world;
    this.#topology = topology;
    this.#random = random;
    this.#options = options;
    this.#left = options.steps;
  }

  /** Sets an opening trustline on every pair (so payments have credit), then the steps. */
  schedule(): void {
    let at = 0;
    if (this.#options.paymentShare > 0) {
      for (const [a, b] of this.#topology.pairs) {
        at += 5;
        this.#left += 2;
        this.#at(at, () => this.#setTrustline(a, b, BigInt(this.#random.between(50, 500))));
        this.#at(at, () => this.#setTrustline(b, a, BigInt(this.#random.between(50, 500))));
      }
    }
    if (this.#left === 0) this.#done();
    for (let i = 0; i < this.#options.steps; i++) {
      at += Math.round(-Math.log(1 - this.#random.next()) * this.#options.stepEveryMs);
      this.#at(at, () => {
        if (this.#random.chance(this.#options.paymentShare)) return this.#payment();
        const [a, b] = this.#random.pick(this.#topology.pairs);
        const [creditor, debtor] = this.#random.chance(0.5) ? [a, b] : [b, a];
        return this.#setTrustline(creditor, debtor, this.#nextAmount(creditor, debtor));
      });
    }
  }

  /** Payment runs only raise trustlines, so a limit never falls below a debt. */
  #nextAmount(creditor: number, debtor: number): bigint {
    if (this.#options.paymentShare === 0) return BigInt(this.#random.between(0, 1000));
    const now = this.model.trustlines.get(`${creditor} ${debtor}`) ?? [0n];
    const highest = now.reduce((a, b) => (a > b ? a : b), 0n);
    return highest + BigInt(this.#random.between(0, 100));
  }

  #at(delayMs: number, operation: () => Promise<void>): void {
    this.#world.clock.setTimer(delayMs, () => {
      const running = operation().catch((error) => {
        this.#world.violate("workload-failed", String(error?.stack ?? error));
      }).finally(() => {
        this.#running.delete(running);
        if (--this.#left === 0) this.#done();
      });
      this.#running.add(running);
    });
  }

  async #setTrustline(creditor: number, debtor: number, amount: bigint): Promise<void> {
    if (!this.#claim(creditor)) return;
    const key = `${creditor} ${debtor}`;
    try {
      this.counts.trustlines++;
      const outcome = await this.#call(() =>
        api.setTrustline(this.#client(creditor), this.#ref(debtor), amount)
      );
      const allowed = this.model.trustlines.get(key) ?? [0n];
      if (outcome === "ok") this.model.trustlines.set(key, [amount]);
      else if (outcome === "uncertain") this.model.trustlines.set(key, [...allowed, amount]);
    } finally {
      this.#busy.delete(creditor);
    }
  }

  async #payment(): Promise<void> {
    const accounts = this.#topology.accounts;
    const buyer = this.#random.int(accounts.length);
    let seller = this.#random.int(accounts.length - 1);
    if (seller >= buyer) seller++;
    if (!this.#claim(buyer)) return;
    if (!this.#claim(seller)) return void this.#busy.delete(buyer);
    const id = this.#random.bytes(32);
    const amount = BigInt(this.#random.between(1, 50));
    const idHex = toHex(id);
    this.model.payments.push({ id, idHex, buyer, seller, amount });
    this.counts.payments++;
    try {
      await this.#call(() => api.newPaymentIn(this.#client(seller), this.#ref(buyer), id, amount));
      await this.#call(() => api.newPaymentOut(this.#client(buyer), this.#ref(seller), id, amount));
    } finally {
      this.#busy.delete(buyer);
      this.#busy.delete(seller);
    }
  }

  /** "ok", "refused" (it certainly did not happen) or "uncertain" (it may have). */
  async #call(request: () => Promise<void>): Promise<"ok" | "refused" | "uncertain"> {
    try {
      await request();
      return "ok";
    } catch (error) {
      if (error instanceof ClientError && error.status !== Status.InternalError) {
        this.counts.refused++;
        return "refused";
      }
      this.counts.uncertain++;
      return "uncertain";
    }
  }

  #claim(index: number): boolean {
    if (this.#busy.has(index)) return false;
    this.#busy.add(index);
    return true;
  }

  #client(index: number) {
    const account: SimAccount = this.#topology.accounts[index];
    return this.#world.client(account.ref, account.key);
  }

  #ref(index: number) {
    return this.#topology.accounts[index].ref;
  }
}
