/** What the store's reads see above the files: change sets in memory, and clean copies of files. */

import { basename, dirname } from "./fs.ts";
import type { ChangeSet } from "./journal.ts";

/**
 * Three layers, read top down: change sets committed but not yet in the journal (each
 * value with the change set that wrote it), change sets in the journal not yet
 * checkpointed into the files, and a bounded cache of files as they are on disk: their
 * text, or that they are missing. The cache holds at most `cacheLimit` texts and as many
 * missing names, so its memory does not grow with the accounts on disk.
 */
export class Overlay {
  #unjournaled = new Map<string, { value: string | null; seq: number }>();
  #journaled = new Map<string, string | null>();
  #cache = new Map<string, string>();
  /** Names known missing on disk, by directory, so one directory is forgotten at once. */
  #missing = new Map<string, Set<string>>();
  #missingCount = 0;
  /**
   * The paths of both change layers by their first two names (`accounts/alice`), so that
   * listing a directory inside an account reads that account's changes, not the journal's.
   */
  #changedBy = new Map<string, string | Set<string>>();
  #cacheLimit: number;

  constructor(cacheLimit: number) {
    this.#cacheLimit = cacheLimit;
  }

  /**
   * A file's text; null if a change set removed it or the disk was found not to have it;
   * undefined if only the disk knows.
   */
  get(path: string): string | null | undefined {
    const unjournaled = this.#unjournaled.get(path);
    if (unjournaled !== undefined) return unjournaled.value;
    const journaled = this.#journaled.get(path);
    if (journaled !== undefined) return journaled;
    const cached = this.#cache.get(path);
    if (cached !== undefined) return cached;
    return this.#missing.get(dirname(path))?.has(basename(path)) ? null : undefined;
  }

  /** Whether memory holds anything for `path` (a read of the disk may have been overtaken). */
  has(path: string): boolean {
    return this.#unjournaled.has(path) || this.#journaled.has(path) || this.#cache.has(path) ||
      this.#missing.get(dirname(path))?.has(basename(path)) === true;
  }

  /** Change set `seq` is committed: reads see it from now on. */
  stage(seq: number, changes: ChangeSet): void {
    for (const [path, value] of changes) {
      this.#unjournaled.set(path, { value, seq });
      this.#index(path);
      this.#cache.delete(path);
      this.#unmiss(path);
    }
  }

  /** Change set `seq` is in the journal. */
  journal(seq: number, changes: ChangeSet): void {
    for (const [path, value] of changes) {
      this.#journaled.set(path, value);
      this.#index(path);
      if (this.#unjournaled.get(path)?.seq === seq) this.#unjournaled.delete(path);
    }
  }

  /** Puts replayed journal contents back, for a journal kept on disk. */
  replay(files: Map<string, string | null>): void {
    // At a start nothing is journaled yet: the replayed map is taken as it is, not copied.
    if (this.#journaled.size === 0) this.#journaled = files;
    else for (const [path, value] of files) this.#journaled.set(path, value);
    for (const path of files.keys()) this.#index(path);
  }

  /** Forgets every change set not in the journal: none of them will ever be. */
  dropUnjournaled(): void {
    const dropped = [...this.#unjournaled.keys()];
    this.#unjournaled.clear();
    for (const path of dropped) this.#unindex(path);
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
      this.#unindex(path);
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
    this.#unmiss(path);
    this.#cache.set(path, text);
  }

  /**
   * Remembers that the disk has no file at `path`. Beyond the limit the directories
   * remembered first are forgotten, a tenth of the limit's names at least.
   */
  rememberMissing(path: string): void {
    if (this.#missingCount >= this.#cacheLimit) {
      let drop = Math.ceil(this.#cacheLimit / 10);
      for (const [dir, names] of this.#missing) {
        this.#missing.delete(dir);
        this.#missingCount -= names.size;
        drop -= names.size;
        if (drop <= 0) break;
      }
    }
    const dir = dirname(path);
    let names = this.#missing.get(dir);
    if (names === undefined) this.#missing.set(dir, names = new Set());
    const before = names.size;
    names.add(basename(path));
    this.#missingCount += names.size - before;
  }

  /** Forgets what was remembered missing in `dir`: another process may have written there. */
  forgetMissingIn(dir: string): void {
    const names = this.#missing.get(dir);
    if (names === undefined) return;
    this.#missing.delete(dir);
    this.#missingCount -= names.size;
  }

  #unmiss(path: string): void {
    const dir = dirname(path);
    const names = this.#missing.get(dir);
    if (names === undefined || !names.delete(basename(path))) return;
    this.#missingCount--;
    if (names.size === 0) this.#missing.delete(dir);
  }

  /** Lays the changes in memory over the names a listing of `dir` found on disk. */
  overlayNames(dir: string, names: Set<string>): void {
    const overlay = (path: string, value: string | null | undefined) => {
      if (value !== undefined) layChange(names, dir, path, value);
    };
    const key = groupOf(dir);
    if (key === null) {
      // Above the accounts (`accounts`, `pending`): every change counts.
      for (const [path, value] of this.#journaled) overlay(path, value);
      for (const [path, { value }] of this.#unjournaled) overlay(path, value);
      return;
    }
    // The newer layer is laid last, as above.
    const paths = this.#changedBy.get(key) ?? [];
    for (const path of typeof paths === "string" ? [paths] : paths) {
      overlay(path, this.#journaled.get(path));
      overlay(path, this.#unjournaled.get(path)?.value);
    }
  }

  #index(path: string): void {
    // Most accounts have one changed file (a counter): a string then, not a set.
    const key = groupOf(dirname(path)) ?? path;
    const paths = this.#changedBy.get(key);
    if (paths === undefined) this.#changedBy.set(key, path);
    else if (typeof paths !== "string") paths.add(path);
    else if (paths !== path) this.#changedBy.set(key, new Set([paths, path]));
  }

  /** Takes `path` out of the index once neither change layer holds it. */
  #unindex(path: string): void {
    if (this.#journaled.has(path) || this.#unjournaled.has(path)) return;
    const key = groupOf(dirname(path)) ?? path;
    const paths = this.#changedBy.get(key);
    if (paths === path) this.#changedBy.delete(key);
    else if (typeof paths !== "string" && paths?.delete(path) && paths.size === 0) {
      this.#changedBy.delete(key);
    }
  }
}

const SLASH = "/".charCodeAt(0);

/**
 * Lays one change over the names listed in `dir`: a file written there is added, one removed
 * is taken out, and a file below it adds the subdirectory it is in.
 */
export function layChange(names: Set<string>, dir: string, path: string, value: string | null) {
  if (path.charCodeAt(dir.length) !== SLASH || !path.startsWith(dir)) return;
  const rest = path.slice(dir.length + 1);
  const slash = rest.indexOf("/");
  if (slash !== -1) names.add(rest.slice(0, slash));
  else if (value === null) names.delete(rest);
  else names.add(rest);
}

/** The first two names of a directory (`accounts/alice` of `accounts/alice/peers`); null above. */
function groupOf(dir: string): string | null {
  const first = dir.indexOf("/");
  if (first === -1) return null;
  const second = dir.indexOf("/", first + 1);
  return second === -1 ? dir : dir.slice(0, second);
}
