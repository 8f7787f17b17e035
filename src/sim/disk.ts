/**
 * Disk faults in the simulator: I/O errors, disks that fill up and empty again, and crashes
 * that lose unsynced directories; switched on per run, drawn per server from the seed.
 */

import type { OptionSpec } from "../cli/args.ts";
import { DiskError, MemoryFileSystem } from "../store/memory_fs.ts";
import { Store } from "../store/store.ts";
import type { Random } from "./random.ts";

/** How often each disk fault happens; all zero is a disk that only ever crashes. */
export interface DiskFaults {
  /** Chance per write or append that it fails with EIO (after writing a part). */
  eioWrite: number;
  /** Chance per fsync of a file that it fails with EIO (its dirty data is dropped). */
  eioSync: number;
  /** Chance per rename that it fails with EIO. */
  eioRename: number;
  /** Chance per fsync of a directory that it fails with EIO. */
  eioSyncDir: number;
  /** Mean simulated time between two disks filling up, anywhere (0: never). */
  fullEveryMs: number;
  /** How long a full disk stays full, ms, uniform in [min, max]. */
  fullMs: [number, number];
  /** Whether a crash also loses directories created since their parent was last fsynced. */
  lostDirs: boolean;
}

/** No disk faults. */
export const NO_DISK_FAULTS: DiskFaults = {
  eioWrite: 0,
  eioSync: 0,
  eioRename: 0,
  eioSyncDir: 0,
  fullEveryMs: 0,
  fullMs: [500, 5_000],
  lostDirs: false,
};

/** The faults `--disk-faults` stands for. */
export const STANDARD_DISK_FAULTS: DiskFaults = {
  eioWrite: 0.0002,
  eioSync: 0.0002,
  eioRename: 0.0005,
  eioSyncDir: 0.0005,
  fullEveryMs: 8_000,
  fullMs: [500, 5_000],
  lostDirs: true,
};

/** What the disks did, for reports. */
export interface DiskStats {
  /** I/O errors injected. */
  ioErrors: number;
  /** Writes refused for lack of space. */
  noSpace: number;
  /** Times a disk filled up. */
  fillUps: number;
  /** Times a server stopped on a storage error (and was started again). */
  stops: number;
}

/**
 * A server's disk, its randomness forked from the seed. Its I/O errors start with
 * {@linkcode DiskWeather.start}, once the accounts are set up.
 */
export function faultyDisk(faults: DiskFaults, random: Random, tornRate: number): MemoryFileSystem {
  return new MemoryFileSystem({ random: random.fn, tornRate, loseUnsyncedDirs: faults.lostDirs });
}

function eioRates(faults: DiskFaults) {
  return {
    write: faults.eioWrite,
    sync: faults.eioSync,
    rename: faults.eioRename,
    syncDir: faults.eioSyncDir,
  };
}

/** Whether an error came from a disk fault (the server's process then exits). */
export function isDiskFault(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof DiskError) return true;
  }
  return false;
}

/** The parts of the world the disk faults work on. */
export interface DiskWorld {
  readonly clock: { setTimer(delayMs: number, callback: () => void): { cancel(): void } };
  readonly servers: ReadonlyMap<string, { disk: MemoryFileSystem; node: unknown }>;
}

/**
 * Fills disks at random times: a disk gets a budget a little above what it holds, so the
 * writes in flight fail part way, and the budget is lifted after a while.
 */
export class DiskWeather {
  readonly stats: DiskStats = { ioErrors: 0, noSpace: 0, fillUps: 0, stops: 0 };
  #world: DiskWorld;
  #faults: DiskFaults;
  #random: Random;
  #next: { cancel(): void } | null = null;
  #stopped = false;

  constructor(world: DiskWorld, faults: DiskFaults, random: Random) {
    this.#world = world;
    this.#faults = faults;
    this.#random = random;
  }

  /** Disks fail and fill up from now on, at the rates of the faults. */
  start(): void {
    for (const { disk } of this.#world.servers.values()) disk.eio = eioRates(this.#faults);
    this.#fillLater();
  }

  #fillLater(): void {
    if (this.#faults.fullEveryMs <= 0 || this.#stopped) return;
    const delay = Math.round(-Math.log(1 - this.#random.next()) * this.#faults.fullEveryMs);
    this.#next = this.#world.clock.setTimer(delay, () => {
      const disks = [...this.#world.servers.values()].map((server) => server.disk)
        .filter((disk) => disk.budget === null);
      if (disks.length > 0) this.#fill(this.#random.pick(disks));
      this.#fillLater();
    });
  }

  /** No more faults: every disk gets its space back and stops failing. */
  stop(): void {
    this.#stopped = true;
    this.#next?.cancel();
    for (const { disk } of this.#world.servers.values()) {
      disk.budget = null;
      disk.eio = eioRates(NO_DISK_FAULTS);
    }
    this.#count();
  }

  /** A server stopped on a storage error. */
  stopped(): void {
    this.stats.stops++;
  }

  #fill(disk: MemoryFileSystem): void {
    this.stats.fillUps++;
    disk.budget = disk.used + this.#random.between(0, 2_000);
    const [min, max] = this.#faults.fullMs;
    this.#world.clock.setTimer(this.#random.between(min, max), () => {
      if (!this.#stopped) disk.budget = null;
    });
  }

  #count(): void {
    this.stats.ioErrors = 0;
    this.stats.noSpace = 0;
    for (const { disk } of this.#world.servers.values()) {
      this.stats.ioErrors += disk.injected.eio;
      this.stats.noSpace += disk.injected.enospc;
    }
  }
}

/** Every file a store holds, with its text, as reads see them. */
export async function storeFiles(store: Store): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const name of await store.list(dir)) {
      const path = `${dir}/${name}`;
      const text = await store.read(path);
      if (text === undefined) await walk(path);
      else files.set(path, text);
    }
  };
  for (const top of ["accounts", "pending"]) await walk(top);
  return files;
}

/**
 * The differences between what a server's store held and what its disk holds after a crash,
 * as the journal replay would see them (read-only: the disk is not changed).
 */
export async function lostOnCrash(
  before: Map<string, string>,
  disk: MemoryFileSystem,
  root: string,
): Promise<string[]> {
  const store = await Store.open(disk.view(), root, { readOnly: true });
  const after = await storeFiles(store);
  await store.close();
  const lost: string[] = [];
  for (const [path, text] of before) {
    const now = after.get(path);
    if (now !== text) lost.push(`${path}: ${JSON.stringify(text)} became ${JSON.stringify(now)}`);
  }
  for (const path of after.keys()) {
    if (!before.has(path)) lost.push(`${path}: appeared`);
  }
  return lost;
}

/** The command-line flags of the disk faults. */
export const DISK_OPTIONS: OptionSpec = {
  "eio-write": { type: "string" },
  "eio-fsync": { type: "string" },
  "eio-rename": { type: "string" },
  "eio-dir-fsync": { type: "string" },
  "full-every-ms": { type: "string" },
  "full-ms": { type: "string" },
  "lost-dirs": { type: "boolean" },
  "disk-faults": { type: "boolean" },
};

/** The help lines of the disk-fault flags. */
export const DISK_HELP =
  `  --eio-write P       chance a write or append fails with an I/O error (default 0)
  --eio-fsync P       chance an fsync of a file fails with an I/O error; the data it was to
                      write is dropped, as Linux does (default 0)
  --eio-rename P      chance a rename fails with an I/O error (default 0)
  --eio-dir-fsync P   chance an fsync of a directory fails with an I/O error (default 0)
  --full-every-ms T   mean time between two disks filling up, 0 for never (default 0)
  --full-ms MIN-MAX   how long a disk stays full (default ${NO_DISK_FAULTS.fullMs.join("-")})
  --lost-dirs         a crash also loses directories whose parent was not fsynced since
  --disk-faults       shorthand: --eio-write ${STANDARD_DISK_FAULTS.eioWrite} --eio-fsync ${STANDARD_DISK_FAULTS.eioSync}
                      --eio-rename ${STANDARD_DISK_FAULTS.eioRename} --eio-dir-fsync ${STANDARD_DISK_FAULTS.eioSyncDir}
                      --full-every-ms ${STANDARD_DISK_FAULTS.fullEveryMs} --lost-dirs`;

/** How {@linkcode parseDiskFaults} reads flag values. */
export interface FlagReaders {
  number(name: string, fallback: number, max?: number): number;
  whole(name: string, fallback: number): number;
  range(name: string, fallback: [number, number]): [number, number];
  flag(name: string): boolean;
}

/** The disk faults the flags ask for. */
export function parseDiskFaults(read: FlagReaders): DiskFaults {
  const base = read.flag("disk-faults") ? STANDARD_DISK_FAULTS : NO_DISK_FAULTS;
  return {
    eioWrite: read.number("eio-write", base.eioWrite, 1),
    eioSync: read.number("eio-fsync", base.eioSync, 1),
    eioRename: read.number("eio-rename", base.eioRename, 1),
    eioSyncDir: read.number("eio-dir-fsync", base.eioSyncDir, 1),
    fullEveryMs: read.whole("full-every-ms", base.fullEveryMs),
    fullMs: read.range("full-ms", base.fullMs),
    lostDirs: read.flag("lost-dirs") || base.lostDirs,
  };
}

/** The flags that replay `faults`. */
export function diskFlags(faults: DiskFaults): string {
  return [
    `--eio-write ${faults.eioWrite} --eio-fsync ${faults.eioSync}`,
    `--eio-rename ${faults.eioRename} --eio-dir-fsync ${faults.eioSyncDir}`,
    `--full-every-ms ${faults.fullEveryMs} --full-ms ${faults.fullMs.join("-")}`,
    ...(faults.lostDirs ? ["--lost-dirs"] : []),
  ].join(" ");
}

/** The disks' part of a run's summary line. */
export function diskSummary(stats: DiskStats): string {
  return `${stats.ioErrors} I/O errors (${stats.stops} stops), ${stats.fillUps} full disks ` +
    `(${stats.noSpace} writes refused)`;
}

/** What {@linkcode checkCrashAtRest} needs of the world. */
export interface RestingWorld {
  readonly servers: ReadonlyMap<
    string,
    { address: string; disk: MemoryFileSystem; node: { store: Store } | null }
  >;
  crash(address: string): void;
  violate(invariant: string, detail: string): void;
  runUntilQuiet(maxMs: number): Promise<boolean>;
}

/**
 * Once the world is quiet every change is acknowledged, so a crash of every server must
 * lose nothing (**lost-on-crash**): each server's files as its store reads them, then its
 * disk crashed and replayed read-only. The servers then restart from those disks.
 */
export async function checkCrashAtRest(
  world: RestingWorld,
  root: string,
  quietWithinMs: number,
): Promise<void> {
  const before = new Map<string, Map<string, string>>();
  for (const server of world.servers.values()) {
    if (server.node !== null) before.set(server.address, await storeFiles(server.node.store));
  }
  for (const [address, files] of before) {
    world.crash(address);
    const lost = await lostOnCrash(files, world.servers.get(address)!.disk, root);
    for (const line of lost.slice(0, 5)) world.violate("lost-on-crash", `${address} ${line}`);
  }
  if (!(await world.runUntilQuiet(quietWithinMs))) {
    world.violate("not-quiet", "servers did not come back after the crash at rest");
  }
}
