/**
 * An in-memory file system with the crash behaviour and the faults of a real disk, for the
 * simulator and for crash tests: unsynced data and unsynced directory entries are lost on a
 * crash; writes, fsyncs, renames and directory fsyncs can fail with EIO; writes past a byte
 * budget fail with ENOSPC.
 */

import { FileTable, type Inode, withoutDropped } from "./_file_table.ts";
import { MemoryView, SimulatedCrash } from "./_memory_view.ts";
import { basename, dirname, type FileSystem } from "./fs.ts";

export { DiskError, SimulatedCrash } from "./_memory_view.ts";

/** Chances, per operation, that the disk fails it with EIO. */
export interface EioRates {
  /** A write or an append; a random part of the data is written first. */
  write: number;
  /** An fsync of a file; its dirty data is dropped, and no later fsync writes it (as Linux does). */
  sync: number;
  /** A rename; it does not happen. */
  rename: number;
  /** An fsync of a directory; its entries stay as durable as they were. */
  syncDir: number;
}

/** A disk that never returns EIO. */
export const NO_EIO: EioRates = { write: 0, sync: 0, rename: 0, syncDir: 0 };

/** Options of {@linkcode MemoryFileSystem}. */
export interface MemoryFileSystemOptions {
  /** Source of randomness for torn writes and faults; deterministic in the simulator. */
  random?: () => number;
  /** Chance that a crash leaves a random prefix of a file's unsynced data instead of none. */
  tornRate?: number;
  eio?: Partial<EioRates>;
  /**
   * A crash also loses every directory created since its parent was last fsynced, with all
   * it holds. Off, directories themselves are always durable.
   */
  loseUnsyncedDirs?: boolean;
}

/**
 * Files in memory. `live` is what reads see; `durable` is what survives {@linkcode crash}:
 * a file's content counts once fsynced, a directory entry once its directory is fsynced.
 *
 * @example
 * ```ts
 * import { MemoryFileSystem } from "./memory_fs.ts";
 * const disk = new MemoryFileSystem();
 * const fs = disk.view();
 * await fs.mkdir("/d");
 * await fs.write("/d/a.txt", new Uint8Array([1]));
 * disk.crash();
 * await disk.view().read("/d/a.txt"); // null: neither the data nor the entry was synced
 * ```
 */
export class MemoryFileSystem {
  /** Chances of EIO; they may be changed at any time. */
  eio: EioRates;
  /** The most bytes all files may hold; a write past it writes what fits, then fails with ENOSPC. */
  budget: number | null = null;
  /** While true, opening a file to read it fails with EMFILE, as at the open-files limit. */
  outOfFiles = false;
  /** Faults injected so far. */
  readonly injected = { eio: 0, enospc: 0 };
  /** Mutating operations performed since creation. */
  operations = 0;
  #live = new FileTable();
  #durable = new FileTable();
  #dirs = new Set<string>(["/"]);
  /** Directories whose entry in their parent is durable (all of them unless entries are lost). */
  #durableDirs = new Set<string>(["/"]);
  /** Subdirectory names by parent directory. */
  #subdirs = new Map<string, Set<string>>();
  #used = 0;
  #epoch = 0;
  #crashes = 0;
  #crashIn: number | null = null;
  #random: () => number;
  #tornRate: number;
  #loseDirs: boolean;

  constructor(options: MemoryFileSystemOptions = {}) {
    this.#random = options.random ?? Math.random;
    this.#tornRate = options.tornRate ?? 0;
    this.eio = { ...NO_EIO, ...options.eio };
    this.#loseDirs = options.loseUnsyncedDirs ?? false;
  }

  /** A file system bound to the current life of the server; it fails once that life ends. */
  view(): FileSystem {
    return new MemoryView(this, this.#epoch);
  }

  /** How many times this disk has crashed; a change tells that a scheduled crash fired. */
  get crashes(): number {
    return this.#crashes;
  }

  /** How many lives (crashes and process ends) have passed; views of an older one fail. */
  get lives(): number {
    return this.#epoch;
  }

  /** Bytes held by the files now. */
  get used(): number {
    return this.#used;
  }

  /** Crash on the `n`th mutating operation from now (1 = the next one). */
  crashAfter(n: number): void {
    this.#crashIn = n;
  }

  /** Cancels a crash scheduled with {@linkcode crashAfter}. */
  cancelCrash(): void {
    this.#crashIn = null;
  }

  /**
   * The server's process ends (it exited, or was killed) but the machine does not crash:
   * views taken before fail from here on, and everything written stays, synced or not.
   */
  kill(): void {
    this.#crashIn = null;
    this.#epoch++;
  }

  /** Loses everything not durable, now. Views taken before fail from here on. */
  crash(): void {
    this.#crashIn = null;
    this.#epoch++;
    this.#crashes++;
    if (this.#loseDirs) this.#loseUnsyncedDirs();
    const survivors = new FileTable();
    for (const [path, inode] of this.#durable.entries()) {
      if (!this.#dirs.has(dirname(path))) continue;
      const data = this.#afterCrash(inode);
      survivors.set(path, { data, synced: data, dirtyFrom: Infinity, dropped: [] });
    }
    this.#live = survivors;
    this.#durable = new FileTable();
    for (const [path, inode] of survivors.entries()) this.#durable.set(path, inode);
    this.#used = survivors.bytes();
  }

  /** Every file path that exists now, for invariant checks. */
  paths(): string[] {
    return [...this.#live.keys()].sort();
  }

  /** What a crash leaves of a file: its synced bytes, and with a chance a torn part of the rest. */
  #afterCrash(inode: Inode): Uint8Array {
    if (inode.dirtyFrom === Infinity || !(this.#random() < this.#tornRate)) return inode.synced;
    // Unsynced writes tear, but the bytes an fsync already made durable stay.
    const kept = Math.min(inode.dirtyFrom, inode.synced.length);
    const torn = Math.floor(this.#random() * (inode.data.length - kept + 1));
    return withoutDropped(inode.data.slice(0, kept + torn), inode.dropped);
  }

  #loseUnsyncedDirs(): void {
    const surviving = new Set<string>(["/"]);
    const byDepth = [...this.#dirs].sort((a, b) => a.split("/").length - b.split("/").length);
    for (const dir of byDepth) {
      if (this.#durableDirs.has(dir) && surviving.has(dirname(dir))) surviving.add(dir);
    }
    this.#dirs = surviving;
    this.#durableDirs = new Set(surviving);
    this.#subdirs = new Map();
    for (const dir of surviving) if (dir !== "/") this.#linkDir(dir);
  }

  /** @internal used by views */
  check(epoch: number, mutating: boolean): void {
    if (epoch !== this.#epoch) throw new SimulatedCrash("the server crashed");
    if (!mutating) return;
    this.operations++;
    if (this.#crashIn !== null && --this.#crashIn <= 0) {
      this.crash();
      throw new SimulatedCrash("the server crashed");
    }
  }

  /** @internal whether this operation fails with EIO; draws only when the rate is set */
  fails(operation: keyof EioRates): boolean {
    const rate = this.eio[operation];
    if (rate <= 0 || !(this.#random() < rate)) return false;
    this.injected.eio++;
    return true;
  }

  /** @internal a random whole number from 0 to `n` */
  upTo(n: number): number {
    return Math.floor(this.#random() * (n + 1));
  }

  /** @internal bytes that may still be written, beyond the `freed` a write releases first */
  room(freed = 0): number {
    return this.budget === null ? Infinity : Math.max(0, this.budget - this.#used + freed);
  }

  /** @internal a write grew or shrank the files by `delta` bytes */
  resize(delta: number): void {
    this.#used += delta;
  }

  /** @internal */
  get live(): FileTable {
    return this.#live;
  }

  /** @internal */
  get dirs(): Set<string> {
    return this.#dirs;
  }

  /** @internal the names of the subdirectories of `dir` */
  subdirs(dir: string): Iterable<string> {
    return this.#subdirs.get(dir) ?? [];
  }

  /** @internal creates `dir` and its missing parents; returns those created, outermost first */
  addDir(dir: string): string[] {
    const created: string[] = [];
    for (; dir !== "/" && !this.#dirs.has(dir); dir = dirname(dir)) {
      this.#dirs.add(dir);
      if (!this.#loseDirs) this.#durableDirs.add(dir);
      this.#linkDir(dir);
      created.unshift(dir);
    }
    return created;
  }

  #linkDir(dir: string): void {
    const parent = dirname(dir);
    let names = this.#subdirs.get(parent);
    if (names === undefined) this.#subdirs.set(parent, names = new Set());
    names.add(basename(dir));
  }

  /** @internal makes the entries of `dir` durable as they are live now */
  syncEntries(dir: string): void {
    for (const path of [...this.#durable.inDir(dir).keys()]) {
      if (this.#live.get(path) !== this.#durable.get(path)) this.#durable.delete(path);
    }
    for (const [path, inode] of this.#live.inDir(dir)) this.#durable.set(path, inode);
    for (const name of this.subdirs(dir)) {
      this.#durableDirs.add(dir === "/" ? `/${name}` : `${dir}/${name}`);
    }
  }
}
