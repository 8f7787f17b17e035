/**
 * An in-memory file system with the crash behaviour of a POSIX disk, for the simulator and
 * for crash tests: unsynced data and unsynced directory entries are lost on a crash.
 */

import {
  type AppendFile,
  basename,
  type DirEntry,
  dirname,
  type FileSystem,
  type WriteOptions,
} from "./fs.ts";

/** Thrown by every operation of a view whose file system has crashed. */
export class SimulatedCrash extends Error {
  override name = "SimulatedCrash";
}

interface Inode {
  data: Uint8Array;
  /** The content a crash leaves behind. */
  synced: Uint8Array;
}

/** Options of {@linkcode MemoryFileSystem}. */
export interface MemoryFileSystemOptions {
  /** Source of randomness for torn writes; deterministic in the simulator. */
  random?: () => number;
  /** Chance that a crash leaves a random prefix of a file's unsynced data instead of none. */
  tornRate?: number;
}

/**
 * Files in memory. `live` is what reads see; `durable` is what survives {@linkcode crash}:
 * a file's content counts once fsynced, a directory entry once its directory is fsynced.
 * Directories themselves are always durable (a simplification the store does not rely on).
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
  #live = new FileTable();
  #durable = new FileTable();
  #dirs = new Set<string>(["/"]);
  /** Subdirectory names by parent directory. */
  #subdirs = new Map<string, Set<string>>();
  #epoch = 0;
  #crashIn: number | null = null;
  #random: () => number;
  #tornRate: number;
  /** Mutating operations performed since creation. */
  operations = 0;

  constructor(options: MemoryFileSystemOptions = {}) {
    this.#random = options.random ?? Math.random;
    this.#tornRate = options.tornRate ?? 0;
  }

  /** A file system bound to the current life of the disk; it fails after a crash. */
  view(): FileSystem {
    return new MemoryView(this, this.#epoch);
  }

  /** How many times this disk has crashed; a change tells that a scheduled crash fired. */
  get crashes(): number {
    return this.#epoch;
  }

  /** Crash on the `n`th mutating operation from now (1 = the next one). */
  crashAfter(n: number): void {
    this.#crashIn = n;
  }

  /** Cancels a crash scheduled with {@linkcode crashAfter}. */
  cancelCrash(): void {
    this.#crashIn = null;
  }

  /** Loses everything not durable, now. Views taken before fail from here on. */
  crash(): void {
    this.#crashIn = null;
    this.#epoch++;
    const survivors = new FileTable();
    const durable = new FileTable();
    for (const [path, inode] of this.#durable.entries()) {
      let data = inode.synced;
      if (inode.data !== inode.synced && this.#random() < this.#tornRate) {
        // Unsynced appends tear, but the bytes an fsync already made durable stay.
        const kept = startsWith(inode.data, inode.synced) ? inode.synced.length : 0;
        const torn = Math.floor(this.#random() * (inode.data.length - kept + 1));
        data = inode.data.slice(0, kept + torn);
      }
      const survivor = { data, synced: data };
      survivors.set(path, survivor);
      durable.set(path, survivor);
    }
    this.#live = survivors;
    this.#durable = durable;
  }

  /** Every file path that exists now, for invariant checks. */
  paths(): string[] {
    return [...this.#live.keys()].sort();
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

  /** @internal creates `dir` and its missing parents */
  addDir(dir: string): void {
    for (; dir !== "/" && !this.#dirs.has(dir); dir = dirname(dir)) {
      this.#dirs.add(dir);
      const parent = dirname(dir);
      let names = this.#subdirs.get(parent);
      if (names === undefined) this.#subdirs.set(parent, names = new Set());
      names.add(basename(dir));
    }
  }

  /** @internal makes the entries of `dir` durable as they are live now */
  syncEntries(dir: string): void {
    for (const path of [...this.#durable.inDir(dir).keys()]) {
      if (this.#live.get(path) !== this.#durable.get(path)) this.#durable.delete(path);
    }
    for (const [path, inode] of this.#live.inDir(dir)) this.#durable.set(path, inode);
  }
}

/** Files by path, indexed by directory so that listing one does not scan them all. */
class FileTable {
  #files = new Map<string, Inode>();
  #byDir = new Map<string, Map<string, Inode>>();

  get(path: string): Inode | undefined {
    return this.#files.get(path);
  }

  has(path: string): boolean {
    return this.#files.has(path);
  }

  set(path: string, inode: Inode): void {
    this.#files.set(path, inode);
    const dir = dirname(path);
    let files = this.#byDir.get(dir);
    if (files === undefined) this.#byDir.set(dir, files = new Map());
    files.set(path, inode);
  }

  delete(path: string): void {
    this.#files.delete(path);
    const dir = dirname(path);
    const files = this.#byDir.get(dir);
    files?.delete(path);
    if (files?.size === 0) this.#byDir.delete(dir);
  }

  keys(): Iterable<string> {
    return this.#files.keys();
  }

  entries(): Iterable<[string, Inode]> {
    return this.#files.entries();
  }

  /** The files directly in `dir`, by path. */
  inDir(dir: string): ReadonlyMap<string, Inode> {
    return this.#byDir.get(dir) ?? EMPTY;
  }
}

const EMPTY: ReadonlyMap<string, Inode> = new Map();

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  return prefix.length <= data.length && prefix.every((byte, i) => data[i] === byte);
}

class MemoryView implements FileSystem {
  #disk: MemoryFileSystem;
  #epoch: number;

  constructor(disk: MemoryFileSystem, epoch: number) {
    this.#disk = disk;
    this.#epoch = epoch;
  }

  read(path: string): Promise<Uint8Array | null> {
    return this.#run(false, () => this.#disk.live.get(path)?.data.slice() ?? null);
  }

  list(path: string): Promise<DirEntry[] | null> {
    return this.#run(false, () => {
      if (!this.#disk.dirs.has(path)) return null;
      const names = new Map<string, boolean>();
      for (const dir of this.#disk.subdirs(path)) names.set(dir, true);
      for (const file of this.#disk.live.inDir(path).keys()) names.set(basename(file), false);
      return [...names].map(([name, isDirectory]) => ({ name, isDirectory }));
    });
  }

  write(path: string, data: Uint8Array, options: WriteOptions = {}): Promise<void> {
    return this.#run(true, () => {
      this.#parentMustExist(path);
      let inode = this.#disk.live.get(path);
      if (inode === undefined) {
        inode = { data: new Uint8Array(), synced: new Uint8Array() };
        this.#disk.live.set(path, inode);
      }
      inode.data = data.slice();
      if (options.sync) inode.synced = inode.data;
    });
  }

  openAppend(path: string): Promise<AppendFile> {
    return this.#run(true, () => {
      this.#parentMustExist(path);
      if (!this.#disk.live.has(path)) {
        this.#disk.live.set(path, { data: new Uint8Array(), synced: new Uint8Array() });
      }
      const inode = this.#disk.live.get(path)!;
      return {
        append: (data) =>
          this.#run(true, () => {
            const grown = new Uint8Array(inode.data.length + data.length);
            grown.set(inode.data);
            grown.set(data, inode.data.length);
            inode.data = grown;
          }),
        sync: () =>
          this.#run(true, () => {
            inode.synced = inode.data;
          }),
        close: () => {},
      };
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.#run(true, () => {
      const inode = this.#disk.live.get(from);
      if (inode === undefined) throw new Deno.errors.NotFound(`rename ${from}`);
      this.#parentMustExist(to);
      this.#disk.live.delete(from);
      this.#disk.live.set(to, inode);
    });
  }

  remove(path: string): Promise<void> {
    return this.#run(true, () => {
      this.#disk.live.delete(path);
    });
  }

  mkdir(path: string): Promise<void> {
    return this.#run(true, () => {
      this.#disk.addDir(path);
    });
  }

  syncDir(path: string): Promise<void> {
    return this.#run(true, () => this.#disk.syncEntries(path));
  }

  #parentMustExist(path: string): void {
    if (!this.#disk.dirs.has(dirname(path))) {
      throw new Deno.errors.NotFound(`no directory for ${path}`);
    }
  }

  /** Runs an operation as a resolved (or rejected) promise, so everything stays on microtasks. */
  #run<T>(mutating: boolean, operation: () => T): Promise<T> {
    try {
      this.#disk.check(this.#epoch, mutating);
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
