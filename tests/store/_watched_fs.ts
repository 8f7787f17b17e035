/** A file system wrapper for store tests: counts journal segments and fsyncs, and can hold fsyncs back. */

import type { AppendFile, DirEntry, FileSystem, WriteOptions } from "../../src/store/fs.ts";

/** Passes every call to `inner`, counting `sync` calls on appended files and holding them while gated. */
export class WatchedFileSystem implements FileSystem {
  #inner: FileSystem;
  #gate: PromiseWithResolvers<void> | null = null;
  #held = new Map<string, PromiseWithResolvers<void>>();
  /** Journal fsyncs started so far. */
  syncs = 0;
  /** Journal segments opened so far. */
  segmentsOpened = 0;

  constructor(inner: FileSystem) {
    this.#inner = inner;
  }

  /** Holds every journal fsync from now until {@linkcode WatchedFileSystem.openSyncs}. */
  holdSyncs(): void {
    this.#gate ??= Promise.withResolvers<void>();
  }

  /** Lets held fsyncs finish. */
  openSyncs(): void {
    this.#gate?.resolve();
    this.#gate = null;
  }

  async read(path: string): Promise<Uint8Array | null> {
    const data = await this.#inner.read(path);
    const held = this.#held.get(path);
    if (held) await held.promise;
    return data;
  }
  /**
   * Lets reads and listings of `path` take their snapshot but not return it until
   * {@linkcode WatchedFileSystem.release}, like a slow disk whose caller runs late.
   */
  hold(path: string): void {
    this.#held.set(path, Promise.withResolvers<void>());
  }

  /** Lets held reads and listings of `path` return what they saw. */
  release(path: string): void {
    this.#held.get(path)?.resolve();
    this.#held.delete(path);
  }

  async list(path: string): Promise<DirEntry[] | null> {
    const entries = await this.#inner.list(path);
    const held = this.#held.get(path);
    if (held) await held.promise;
    return entries;
  }
  write(path: string, data: Uint8Array, options?: WriteOptions): Promise<void> {
    return this.#inner.write(path, data, options);
  }
  rename(from: string, to: string): Promise<void> {
    return this.#inner.rename(from, to);
  }
  remove(path: string): Promise<void> {
    return this.#inner.remove(path);
  }
  mkdir(path: string): Promise<string[]> {
    return this.#inner.mkdir(path);
  }
  syncDir(path: string): Promise<void> {
    return this.#inner.syncDir(path);
  }

  async openAppend(path: string): Promise<AppendFile> {
    const file = await this.#inner.openAppend(path);
    this.segmentsOpened++;
    return {
      append: (data) => file.append(data),
      sync: async () => {
        this.syncs++;
        if (this.#gate) await this.#gate.promise;
        await file.sync();
      },
      truncate: (length) => file.truncate(length),
      close: () => file.close(),
    };
  }
}
