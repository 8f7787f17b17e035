/** A view of the in-memory disk for one life of a server: the file operations, with their faults. */

import { emptyInode, type Inode, withoutDropped } from "./_file_table.ts";
import {
  type AppendFile,
  basename,
  type DirEntry,
  dirname,
  type FileSystem,
  type WriteOptions,
} from "./fs.ts";
import type { MemoryFileSystem } from "./memory_fs.ts";

/** Thrown by every operation of a view whose server crashed or whose process ended. */
export class SimulatedCrash extends Error {
  override name = "SimulatedCrash";
}

/** An error the disk returned, with its errno name in `code` as Deno's own errors carry it. */
export class DiskError extends Error {
  override name = "DiskError";
  readonly code: "EIO" | "ENOSPC" | "EMFILE";

  constructor(code: "EIO" | "ENOSPC" | "EMFILE", operation: string, path: string) {
    const words = {
      EIO: "Input/output error (os error 5)",
      ENOSPC: "No space left on device (os error 28)",
      EMFILE: "Too many open files (os error 24)",
    }[code];
    super(`${words}: ${operation} ${path}`);
    this.code = code;
  }
}

/** The file operations on a {@linkcode MemoryFileSystem}, failing once its life has ended. */
export class MemoryView implements FileSystem {
  #disk: MemoryFileSystem;
  #epoch: number;

  constructor(disk: MemoryFileSystem, epoch: number) {
    this.#disk = disk;
    this.#epoch = epoch;
  }

  read(path: string): Promise<Uint8Array | null> {
    return this.#run(false, () => {
      if (this.#disk.outOfFiles) throw new DiskError("EMFILE", "open", path);
      return this.#disk.live.get(path)?.data.slice() ?? null;
    });
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
      if (inode === undefined) this.#disk.live.set(path, inode = emptyInode());
      // The file is truncated first, so its old bytes are free for the new ones.
      const freed = inode.data.length;
      this.#disk.resize(-freed);
      inode.data = new Uint8Array();
      inode.dropped = [];
      inode.dirtyFrom = 0;
      this.#grow(inode, data, "write", path);
      if (options.sync) this.#sync(inode, path);
    });
  }

  openAppend(path: string): Promise<AppendFile> {
    return this.#run(true, () => {
      this.#parentMustExist(path);
      if (!this.#disk.live.has(path)) this.#disk.live.set(path, emptyInode());
      const inode = this.#disk.live.get(path)!;
      return {
        append: (data) => this.#run(true, () => this.#grow(inode, data, "append", path)),
        sync: () => this.#run(true, () => this.#sync(inode, path)),
        truncate: (length) =>
          this.#run(true, () => {
            if (length >= inode.data.length) return;
            this.#disk.resize(length - inode.data.length);
            inode.data = inode.data.slice(0, length);
            inode.dirtyFrom = Math.min(inode.dirtyFrom, length);
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
      if (this.#disk.fails("rename")) throw new DiskError("EIO", "rename", from);
      const replaced = this.#disk.live.get(to);
      if (replaced !== undefined && replaced !== inode) this.#disk.resize(-replaced.data.length);
      this.#disk.live.delete(from);
      this.#disk.live.set(to, inode);
    });
  }

  remove(path: string): Promise<void> {
    return this.#run(true, () => {
      const inode = this.#disk.live.get(path);
      if (inode !== undefined) this.#disk.resize(-inode.data.length);
      this.#disk.live.delete(path);
    });
  }

  mkdir(path: string): Promise<string[]> {
    return this.#run(true, () => this.#disk.addDir(path));
  }

  syncDir(path: string): Promise<void> {
    return this.#run(true, () => {
      if (this.#disk.fails("syncDir")) throw new DiskError("EIO", "fsync", path);
      this.#disk.syncEntries(path);
    });
  }

  /** Appends `data` to a file, or as much as the disk takes before it fails. */
  #grow(inode: Inode, data: Uint8Array, operation: string, path: string): void {
    let written = data.length;
    let error: DiskError | null = null;
    if (this.#disk.fails("write")) {
      written = this.#disk.upTo(data.length);
      error = new DiskError("EIO", operation, path);
    } else if (data.length > this.#disk.room()) {
      written = this.#disk.room();
      this.#disk.injected.enospc++;
      error = new DiskError("ENOSPC", operation, path);
    }
    if (written > 0) {
      const grown = new Uint8Array(inode.data.length + written);
      grown.set(inode.data);
      grown.set(data.subarray(0, written), inode.data.length);
      inode.dirtyFrom = Math.min(inode.dirtyFrom, inode.data.length);
      inode.data = grown;
      this.#disk.resize(written);
    }
    if (error) throw error;
  }

  /** An fsync: on EIO the dirty bytes are marked clean without being written, never to be. */
  #sync(inode: Inode, path: string): void {
    if (this.#disk.fails("sync")) {
      if (inode.dirtyFrom < inode.data.length) {
        inode.dropped.push([inode.dirtyFrom, inode.data.length]);
      }
      inode.dirtyFrom = Infinity;
      throw new DiskError("EIO", "fsync", path);
    }
    inode.synced = withoutDropped(inode.data, inode.dropped);
    inode.dirtyFrom = Infinity;
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
