/**
 * A simulated world: real server nodes on in-memory disks, joined by a simulated network
 * that loses, duplicates, delays and reorders datagrams, under one simulated clock.
 */

import { setImmediate } from "node:timers";
import { Client } from "../client/client.ts";
import { MemoryCounterStore } from "../client/counter_store.ts";
import type { Limits } from "../core/config.ts";
import { Logger } from "../core/log.ts";
import { Node } from "../server/node.ts";
import type { Transport } from "../server/transport.ts";
import type { FileSystem } from "../store/fs.ts";
import type { MemoryFileSystem } from "../store/memory_fs.ts";
import { type AccountRef, formatAccountRef } from "../wire/names.ts";
import { SimClock } from "./clock.ts";
import { type DiskFaults, DiskWeather, faultyDisk, isDiskFault, NO_DISK_FAULTS } from "./disk.ts";
import type { HostileServer } from "./hostile.ts";
import { SyncMac } from "./mac.ts";
import { type Faults, type NetworkStats, type PaymentTraffic, SimNetwork } from "./network.ts";
import type { Random } from "./random.ts";

/** One simulated server: its disk lives on across crashes, its node does not. */
export interface SimServer {
  readonly address: string;
  readonly disk: MemoryFileSystem;
  node: Node | null;
  /** Client exchanges in progress, failed when the server crashes. */
  exchanges: Set<(error: Error) => void>;
  life: { stop(): void } | null;
  crashes: number;
  restarts: number;
}

/** A safety property that failed; `at` is the simulated time. */
export interface Violation {
  at: number;
  invariant: string;
  detail: string;
}

/** Options of {@linkcode SimWorld}. */
export interface WorldOptions {
  random: Random;
  faults: Faults;
  limits?: Partial<Limits>;
  /** Receives every server's log lines, with the server's address. */
  onLog?: (address: string, line: string) => void;
  /** Called with each new node, before it handles anything (tests plant bugs with it). */
  onStart?: (server: SimServer) => void;
  /** The disks' own faults. */
  disk?: DiskFaults;
  /** Wraps each node's view of its disk (tests plant storage bugs with it). */
  wrapDisk?: (fs: FileSystem, server: SimServer) => FileSystem;
}

export { type Faults, NO_FAULTS } from "./network.ts";

/** The datadir of every simulated server on its own disk. */
export const SIM_DATADIR = "/data";
/** Simulated time starts at a fixed date, so runs do not depend on the real clock. */
export const SIM_EPOCH = Date.UTC(2026, 0, 1);

/**
 * The world. Drive it with {@linkcode SimWorld.runFor}; between two events every promise
 * the last one started is allowed to settle, so each event sees the consequences of the
 * ones before it, and a run depends on the seed alone.
 */
export class SimWorld {
  readonly clock: SimClock;
  readonly servers = new Map<string, SimServer>();
  readonly network: SimNetwork;
  readonly violations: Violation[] = [];
  /** Disks filling up, and what the disks' faults did. */
  readonly disks: DiskWeather;
  /** The hostile servers, by address: their datagrams leave through the attacker. */
  readonly hostile = new Map<string, HostileServer>();
  #random: Random;
  #limits: Partial<Limits>;
  #onLog?: (address: string, line: string) => void;
  #mac = new SyncMac();
  #clients = new Map<string, Client>();
  #nextCrash: { cancel(): void } | null = null;
  #onStart?: (server: SimServer) => void;
  #diskFaults: DiskFaults;
  #wrapDisk?: (fs: FileSystem, server: SimServer) => FileSystem;

  constructor(options: WorldOptions) {
    this.clock = new SimClock(SIM_EPOCH);
    this.#random = options.random;
    this.network = new SimNetwork({
      clock: this.clock,
      random: this.#random.fork(),
      faults: options.faults,
      servers: this.servers,
      hostile: this.hostile,
      violate: (invariant, detail) => this.violate(invariant, detail),
    });
    this.#limits = options.limits ?? {};
    this.#onLog = options.onLog;
    this.#onStart = options.onStart;
    this.#diskFaults = options.disk ?? NO_DISK_FAULTS;
    this.#wrapDisk = options.wrapDisk;
    this.disks = new DiskWeather(this, this.#diskFaults, this.#random.fork());
  }

  /** The faults in force; setting them changes the network's from the next datagram on. */
  get faults(): Faults {
    return this.network.faults;
  }

  set faults(faults: Faults) {
    this.network.faults = faults;
  }

  /** What the network did. */
  get stats(): NetworkStats {
    return this.network.stats;
  }

  /** Server datagrams sent per payment id (hex). */
  get traffic(): ReadonlyMap<string, PaymentTraffic> {
    return this.network.traffic;
  }

  /** Adds a server with an empty disk; it is started by {@linkcode SimWorld.start}. */
  addServer(address: string): SimServer {
    const server: SimServer = {
      address,
      disk: faultyDisk(this.#diskFaults, this.#random.fork(), this.network.faults.torn),
      node: null,
      exchanges: new Set(),
      life: null,
      crashes: 0,
      restarts: 0,
    };
    this.servers.set(address, server);
    return server;
  }

  /** Starts (or restarts from its disk) a server's node. */
  async start(address: string): Promise<void> {
    const server = this.#server(address);
    if (server.node !== null) return;
    const life = this.clock.life();
    const epoch = server.disk.lives;
    const alive = () => server.disk.lives === epoch && server.life === life;
    const transport: Transport = {
      send: (to, bytes) => {
        if (!alive()) return Promise.reject(dead());
        const hostile = this.hostile.get(address);
        return hostile ? hostile.send(to, bytes) : this.network.send(address, to, bytes);
      },
    };
    const sink = (line: string) => this.#onLog?.(address, line);
    server.life = life;
    const view = server.disk.view();
    try {
      server.node = await Node.open({
        fs: this.#wrapDisk?.(view, server) ?? view,
        datadir: SIM_DATADIR,
        address,
        transport,
        clock: life,
        mac: this.#mac,
        random: this.#random.fork().fn,
        limits: this.#limits,
        logger: new Logger({ level: "info", sink, now: () => this.clock.now() }),
        onFatal: () => {
          // The process exits; a crash that caused the failure is noticed on its own.
          if (alive()) this.#exit(server);
        },
      });
      this.#onStart?.(server);
    } catch (error) {
      // A crash scheduled for the next writes can hit the journal replay itself, and a
      // disk fault can make it fail: then the process exits, and is started again later.
      const crashed = server.disk.lives !== epoch;
      if (!crashed && !isDiskFault(error)) throw error;
      if (crashed) this.network.stats.crashes++;
      else this.#exitedOnFault(server);
      server.life = null;
      life.stop();
      this.#restartLater(server);
    }
  }

  /** A server stopped on a storage error: its process ends, its disk keeps what it wrote. */
  #exit(server: SimServer): void {
    this.#exitedOnFault(server);
    this.#down(server, false);
  }

  #exitedOnFault(server: SimServer): void {
    this.disks.stopped();
    server.disk.kill();
  }

  /** A crash now: everything not durable is lost, timers and connections die with the node. */
  crash(address: string): void {
    const server = this.#server(address);
    if (server.node === null) return;
    server.disk.crash();
    this.#down(server, true);
  }

  /** Random crashes from now on, at the rate of the faults; `stopCrashes` ends them. */
  startCrashes(): void {
    if (this.network.faults.crashEveryMs <= 0) return;
    const delay = Math.round(-Math.log(1 - this.#random.next()) * this.network.faults.crashEveryMs);
    this.#nextCrash = this.clock.setTimer(delay, () => {
      const up = [...this.servers.values()].filter((server) => server.node !== null);
      if (up.length > 0) {
        const server = this.#random.pick(up);
        // Half the crashes fall between two writes now, half in the middle of the next ones.
        if (this.#random.chance(0.5)) this.crash(server.address);
        else server.disk.crashAfter(this.#random.between(1, 40));
      }
      this.startCrashes();
    });
  }

  stopCrashes(): void {
    this.#nextCrash?.cancel();
    this.#nextCrash = null;
    for (const server of this.servers.values()) server.disk.cancelCrash();
  }

  /** The client of an account, talking over the simulated network (one per account). */
  client(ref: AccountRef, key: Uint8Array): Client {
    const name = formatAccountRef(ref);
    let client = this.#clients.get(name);
    if (client === undefined) {
      client = new Client({
        server: ref.address,
        account: ref.username,
        key,
        counters: new MemoryCounterStore(),
        mac: this.#mac,
        exchange: (address, request) => this.network.exchange(address, request),
      });
      this.#clients.set(name, client);
    }
    return client;
  }

  /** Runs events until simulated time has moved `ms` on, or nothing is left to run. */
  async runFor(ms: number): Promise<void> {
    await this.#run(() => false, this.clock.now() + ms);
  }

  /**
   * Runs until no event is left (a quiet network) or `maxMs` have passed; true if quiet.
   * Servers' own periodic work (none at rest) would keep it from ever being quiet.
   */
  async runUntilQuiet(maxMs: number): Promise<boolean> {
    await this.runFor(maxMs);
    return this.clock.nextAt === undefined;
  }

  /** Records a broken invariant. */
  violate(invariant: string, detail: string): void {
    this.violations.push({ at: this.clock.now(), invariant, detail });
  }

  /**
   * Runs events until `promise` settles; its value, or undefined if `maxMs` of simulated
   * time passed (or nothing was left to run) first.
   */
  async runUntil<T>(promise: Promise<T>, maxMs: number): Promise<T | undefined> {
    let outcome: { value: T } | { error: unknown } | undefined;
    promise.then((value) => outcome = { value }, (error) => outcome = { error });
    await this.#run(() => outcome !== undefined, this.clock.now() + maxMs);
    if (outcome === undefined) return undefined;
    if ("error" in outcome) throw outcome.error;
    return outcome.value;
  }

  async #run(done: () => boolean, end: number): Promise<void> {
    await settle();
    while (!done()) {
      const next = this.clock.nextAt;
      if (next === undefined || next > end) return;
      this.clock.step();
      await settle();
      this.#noticeCrashes();
    }
  }

  /** Closes every running node, cleanly; crashed ones are already gone. */
  async close(): Promise<void> {
    this.stopCrashes();
    const closing: Promise<void>[] = [];
    for (const server of this.servers.values()) {
      if (server.node !== null) closing.push(server.node.close());
    }
    // A node's close waits for its last sends and writes, which need simulated time to move.
    await this.runUntil(Promise.all(closing), 600_000);
    for (const server of this.servers.values()) {
      server.node = null;
      server.life?.stop();
      server.life = null;
    }
  }

  #noticeCrashes(): void {
    for (const server of this.servers.values()) {
      if (server.node !== null && server.life !== null && server.disk.crashes > server.crashes) {
        this.#down(server, true);
      }
    }
  }

  #down(server: SimServer, crashed: boolean): void {
    server.crashes = server.disk.crashes;
    if (crashed) this.network.stats.crashes++;
    server.node = null;
    server.life?.stop();
    server.life = null;
    for (const fail of [...server.exchanges]) fail(new Error(`${server.address} crashed`));
    this.#restartLater(server);
  }

  #restartLater(server: SimServer): void {
    server.crashes = server.disk.crashes;
    const [min, max] = this.network.faults.downMs;
    this.clock.setTimer(this.#random.between(min, max), () => {
      server.restarts++;
      this.start(server.address).catch((error) => {
        this.violate("restart-failed", `${server.address}: ${error}`);
      });
    });
  }

  #server(address: string): SimServer {
    const server = this.servers.get(address);
    if (server === undefined) throw new Error(`no server ${address}`);
    return server;
  }
}

/** Lets every promise started so far settle: all simulated work is on the microtask queue. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function dead(): Error {
  return new Error("the server crashed");
}
