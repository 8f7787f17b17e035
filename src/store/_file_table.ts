/** The files of the in-memory disk: inodes with live and durable content, indexed by directory. */

import { dirname } from "./fs.ts";

/** A file's bytes as reads see them, and as a crash would leave them. */
export interface Inode {
  data: Uint8Array;
  /** The content a crash leaves behind. */
  synced: Uint8Array;
  /** The first byte written since the last fsync; Infinity when there is none. */
  dirtyFrom: number;
  /**
   * Byte ranges a failed fsync dropped: the kernel marked them clean without writing them,
   * so no later fsync writes them either (they read back as zeros after a crash).
   */
  dropped: [from: number, to: number][];
}

/** A new, empty file. */
export function emptyInode(): Inode {
  return { data: new Uint8Array(), synced: new Uint8Array(), dirtyFrom: Infinity, dropped: [] };
}

/** `bytes` as the disk holds them: the ranges a failed fsync dropped are zeros. */
export function withoutDropped(bytes: Uint8Array, dropped: Inode["dropped"]): Uint8Array {
  if (dropped.length === 0) return bytes;
  const copy = bytes.slice();
  for (const [from, to] of dropped) copy.fill(0, from, Math.min(to, copy.length));
  return copy;
}

/** Files by path, indexed by directory so that listing one does not scan them all. */
export class FileTable {
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

  /** Bytes held by all files. */
  bytes(): number {
    let total = 0;
    for (const inode of this.#files.values()) total += inode.data.length;
    return total;
  }
}

const EMPTY: ReadonlyMap<string, Inode> = new Map();
