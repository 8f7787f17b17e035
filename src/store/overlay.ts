/** What the store's reads see above the files: change sets in memory, and clean copies of files. */

import type { ChangeSet } from "./journal.ts";

/**
 * Three layers, read top down: change sets committed but not yet in the journal (each
 * value with the change set that wrote it), change sets in the journal not yet
 * checkpointed into the files, and a bounded cache of files as they are on disk.
 */
export class Overlay {
  #unjournaled = new Map<string, { value: string | null; seq: number }>();
  #journaled = new Map<string, string | null>();
  #cache = new Map<string, string>();
  #cacheLimit: number;

  constructor(cacheLimit: number) {
    this.#cacheLimit = cacheLimit;
  }

  /** A file's text, null if a change set removed it, undefined if only the disk knows. */
  get(path: string): string | null | undefined {
    const unjournaled = this.#unjournaled.get(path);
    if (unjournaled !== undefined) return unjournaled.value;
    const journaled = this.#journaled.get(path);
    if (journaled !== undefined) return journaled;
    return this.#cache.get(path);
  }

  /** Whether memory holds anything for `path` (a read of the disk may have been overtaken). */
  has(path: string): boolean {
    return this.#unjournaled.has(path) || this.#journaled.has(path) || this.#cache.has(path);
  }

  /** Change set `seq` is committed: reads see it from now on. */
  stage(seq: number, changes: ChangeSet): void {
    for (const [path, value] of changes) {
      this.#unjournaled.set(path, { value, seq });
      this.#cache.delete(path);
    }
  }

  /** Change set `seq` is in the journal. */
  journal(seq: number, changes: ChangeSet): void {
    for (const [path, value] of changes) {
      this.#journaled.set(path, value);
      if (this.#unjournaled.get(path)?.seq === seq) this.#unjournaled.delete(path);
    }
  }

  /** Puts replayed journal contents back, for a journal kept on disk. */
  replay(files: ReadonlyMap<string, string | null>): void {
    for (const [path, value] of files) this.#journaled.set(path, value);
  }

  /** Forgets every change set not in the journal: none of them will ever be. */
  dropUnjournaled(): void {
    this.#unjournaled.clear();
  }

  /** The files changed in the journal and not yet checkpointed, with their newest content. */
  get journaled(): ReadonlyMap<string, string | null> {
    return this.#journaled;
  }

  /** A checkpoint wrote `snapshot` into the files: what no later change set touched leaves the journal layer. */
  checkpointed(snapshot: ReadonlyMap<string, string | null>): void {
    for (const [path, value] of snapshot) {
      if (this.#journaled.get(path) !== value) continue;
      this.#journaled.delete(path);
      if (value !== null && !this.#unjournaled.has(path)) this.remember(path, value);
    }
  }

  /** Keeps a clean copy of a file; beyond the limit the oldest tenth is dropped. */
  remember(path: string, text: string): void {
    if (this.#cache.size >= this.#cacheLimit) {
      let drop = Math.ceil(this.#cacheLimit / 10);
      for (const key of this.#cache.keys()) {
        this.#cache.delete(key);
        if (--drop === 0) break;
      }
    }
    this.#cache.set(path, text);
  }

  /** Lays the changes in memory over the names a listing of `dir` found on disk. */
  overlayNames(dir: string, names: Set<string>): void {
    const prefix = `${dir}/`;
    const overlay = (path: string, value: string | null) => {
      if (!path.startsWith(prefix)) return;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf("/");
      if (slash !== -1) names.add(rest.slice(0, slash));
      else if (value === null) names.delete(rest);
      else names.add(rest);
    };
    for (const [path, value] of this.#journaled) overlay(path, value);
    for (const [path, { value }] of this.#unjournaled) overlay(path, value);
  }
}
