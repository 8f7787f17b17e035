/**
 * The store: text files under `datadir/ripple`, changed only through atomic change sets that
 * are group-committed to a redo journal and later checkpointed into the files.
 */

import { type Clock, systemClock, type Timer } from "../core/clock.ts";
import { type Logger, silentLogger } from "../core/log.ts";
import { isHidden, SECRET_MODE, writeDurableBatch } from "./durable.ts";
import { type AppendFile, type FileSystem } from "./fs.ts";
import {
  type ChangeSet,
  decodeJournal,
  encodeRecord,
  JournalCorruptError,
  segmentName,
  segmentNumber,
} from "./journal.ts";

/** Tuning and collaborators of a {@linkcode Store}. */
export interface StoreOptions {
  clock?: Clock;
  logger?: Logger;
  /** Start a checkpoint once the current journal segment holds this many bytes. */
  segmentBytes?: number;
  /** Start a checkpoint this long after the first change of a segment. */
  checkpointDelayMs?: number;
  /** Clean files kept in memory. */
  cacheEntries?: number;
  /** Replay the journal in memory and never write (for reading a datadir a server may be using). */
  readOnly?: boolean;
}

/** The store cannot accept changes: a write or fsync failed, or it was closed. */
export class StoreFailedError extends Error {
  override name = "StoreFailedError";
}

const JOURNAL_DIR = "journal";
const SAFE_PATH = /^[a-z0-9_-][a-z0-9_.:-]*(\/[a-z0-9_-][a-z0-9_.:-]*)*$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Queued {
  seq: number;
  changes: ChangeSet;
  record: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Files relative to a root, read through a cache and changed in atomic, durable change sets.
 *
 * A change set is visible to reads as soon as {@linkcode Store.commit} is called, and the
 * promise it returns resolves once the change set is fsynced in the journal; nothing that
 * announces a change may leave the server before then. Change sets committed while an fsync
 * runs share the next one (group commit). A checkpoint later writes the changed files
 * durably and drops the journal segments they came from; on open, the journal is replayed.
 *
 * @example
 * ```ts
 * import { MemoryFileSystem } from "./memory_fs.ts";
 * import { Store } from "./store.ts";
 * const store = await Store.open(new MemoryFileSystem().view(), "/data/ripple");
 * await store.commit(new Map([["accounts/alice/counter.txt", "1\n"]]));
 * await store.read("accounts/alice/counter.txt"); // "1\n"
 * await store.close();
 * ```
 */
export class Store {
  #fs: FileSystem;
  #root: string;
  #clock: Clock;
  #log: Logger;
  #segmentLimit: number;
  #checkpointDelay: number;
  #cacheLimit: number;
  #readOnly: boolean;

  /** Committed, not yet in the journal: newest value and the change set that wrote it. */
  #unjournaled = new Map<string, { value: string | null; seq: number }>();
  /** In the journal, not yet checkpointed into the files. */
  #journaled = new Map<string, string | null>();
  /** Clean copies of files as they are on disk. */
  #cache = new Map<string, string>();

  #queue: Queued[] = [];
  #seq = 0;
  #committing: Promise<void> | null = null;
  #segment: AppendFile | null = null;
  #segmentNo = 0;
  #segmentSize = 0;
  #checkpointWanted = false;
  #checkpointTimer: Timer | null = null;
  #checkpoint: Promise<void> | null = null;
  #failure: Error | null = null;
  #closing = false;
  #last: Promise<void> = Promise.resolve();
  /** Checkpoints finished, so a disk read or listing can tell that one overtook it. */
  #checkpointsDone = 0;

  private constructor(fs: FileSystem, root: string, options: StoreOptions) {
    this.#fs = fs;
    this.#root = root;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger;
    this.#segmentLimit = options.segmentBytes ?? 4 * 1024 * 1024;
    this.#checkpointDelay = options.checkpointDelayMs ?? 2000;
    this.#cacheLimit = options.cacheEntries ?? 100_000;
    this.#readOnly = options.readOnly ?? false;
  }

  /**
   * Opens the store at `root`, replaying any journal left by a crash. Throws
   * {@linkcode JournalCorruptError} if a record before the journal's end is damaged.
   */
  static async open(fs: FileSystem, root: string, options: StoreOptions = {}): Promise<Store> {
    const store = new Store(fs, root, options);
    await store.#recover();
    return store;
  }

  /** The text of a file, or undefined if it does not exist. */
  async read(path: string): Promise<string | undefined> {
    const unjournaled = this.#unjournaled.get(path);
    if (unjournaled !== undefined) return unjournaled.value ?? undefined;
    const journaled = this.#journaled.get(path);
    if (journaled !== undefined) return journaled ?? undefined;
    const cached = this.#cache.get(path);
    if (cached !== undefined) return cached;
    const checkpoints = this.#checkpointsDone;
    const bytes = await this.#fs.read(this.#abs(path));
    if (bytes === null) return undefined;
    const text = decoder.decode(bytes);
    // A commit, or a whole checkpoint, may have landed while the disk read ran.
    if (
      this.#unjournaled.has(path) || this.#journaled.has(path) || this.#cache.has(path) ||
      this.#checkpointsDone !== checkpoints
    ) {
      return this.read(path);
    }
    this.#remember(path, text);
    return text;
  }

  /** Names in a directory (files and subdirectories), including committed changes, sorted. */
  async list(dir: string): Promise<string[]> {
    const names = new Set<string>();
    const checkpoints = this.#checkpointsDone;
    const entries = await this.#fs.list(this.#abs(dir));
    // A checkpoint that finished meanwhile took changes out of the overlay the listing missed.
    if (this.#checkpointsDone !== checkpoints) return this.list(dir);
    for (const entry of entries ?? []) {
      if (!isHidden(entry.name)) names.add(entry.name);
    }
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
    return [...names].sort();
  }

  /**
   * Commits a change set atomically: after a crash either all of it or none of it is there.
   * Reads see it at once; the promise resolves when it is durable.
   */
  commit(changes: ChangeSet): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#readOnly) return Promise.reject(new StoreFailedError("store is read-only"));
    // close() may already have written the files and be removing the journal it would go to.
    if (this.#closing) return Promise.reject(new StoreFailedError("store is closing"));
    for (const path of changes.keys()) {
      if (!SAFE_PATH.test(path) || path.includes("..")) {
        return Promise.reject(new StoreFailedError(`unsafe path ${JSON.stringify(path)}`));
      }
    }
    const seq = ++this.#seq;
    for (const [path, value] of changes) {
      this.#unjournaled.set(path, { value, seq });
      this.#cache.delete(path);
    }
    const durable = new Promise<void>((resolve, reject) => {
      this.#queue.push({ seq, changes, record: encodeRecord(changes), resolve, reject });
      this.#kick();
    });
    this.#last = durable.catch(() => {});
    return durable;
  }

  /**
   * Resolves once every change set committed so far is durable: what a run read may have
   * come from one, so it waits for this before announcing anything.
   */
  barrier(): Promise<void> {
    return this.#last;
  }

  /** Resolves when everything committed so far is durable; throws if storage failed. */
  async flush(): Promise<void> {
    while (this.#committing) await this.#committing;
    if (this.#failure) throw this.#failure;
  }

  /** Bytes in the current journal segment (for status and tests). */
  get journalBytes(): number {
    return this.#segmentSize;
  }

  /**
   * Makes everything durable in the files themselves, removes the journal, and stops.
   * Later commits fail.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#checkpointTimer?.cancel();
    this.#checkpointTimer = null;
    if (this.#readOnly) return;
    try {
      await this.flush();
      while (this.#checkpoint) await this.#checkpoint;
      await this.flush();
      if (this.#journaled.size > 0) await this.#writeFiles(new Map(this.#journaled));
      this.#segment?.close();
      this.#segment = null;
      await this.#removeSegments(this.#segmentNo);
    } finally {
      this.#failure ??= new StoreFailedError("store is closed");
    }
  }

  #abs(path: string): string {
    return `${this.#root}/${path}`;
  }

  #remember(path: string, text: string): void {
    if (this.#cache.size >= this.#cacheLimit) {
      let drop = Math.ceil(this.#cacheLimit / 10);
      for (const key of this.#cache.keys()) {
        this.#cache.delete(key);
        if (--drop === 0) break;
      }
    }
    this.#cache.set(path, text);
  }

  async #recover(): Promise<void> {
    const journalDir = this.#abs(JOURNAL_DIR);
    const numbers = ((await this.#fs.list(journalDir)) ?? [])
      .map((entry) => segmentNumber(entry.name))
      .filter((n): n is number => n !== null)
      .sort((a, b) => a - b);
    const replayed = new Map<string, string | null>();
    let records = 0;
    for (const [i, n] of numbers.entries()) {
      const bytes = await this.#fs.read(`${journalDir}/${segmentName(n)}`);
      const journal = decodeJournal(bytes ? decoder.decode(bytes) : "");
      if (journal.droppedBytes > 0 && i < numbers.length - 1) {
        throw new JournalCorruptError(
          `journal segment ${segmentName(n)} is damaged before its end`,
        );
      }
      if (journal.droppedBytes > 0) {
        this.#log.warn("journal-torn-tail-dropped", {
          segment: segmentName(n),
          bytes: journal.droppedBytes,
        });
      }
      for (const changes of journal.records) {
        for (const [path, value] of changes) {
          if (!SAFE_PATH.test(path) || path.includes("..")) {
            throw new JournalCorruptError(`journal names an unsafe path ${JSON.stringify(path)}`);
          }
          replayed.set(path, value);
        }
        records++;
      }
    }
    const last = numbers.at(-1) ?? 0;
    if (this.#readOnly) {
      for (const [path, value] of replayed) this.#journaled.set(path, value);
      return;
    }
    await this.#fs.mkdir(journalDir);
    if (records > 0) {
      await this.#writeFiles(replayed);
      this.#log.info("journal-replayed", { records, files: replayed.size });
    }
    await this.#removeSegments(last);
    await this.#openSegment(last + 1);
  }

  async #openSegment(n: number): Promise<void> {
    this.#segment = await this.#fs.openAppend(this.#abs(`${JOURNAL_DIR}/${segmentName(n)}`));
    await this.#fs.syncDir(this.#abs(JOURNAL_DIR));
    this.#segmentNo = n;
    this.#segmentSize = 0;
  }

  async #removeSegments(upTo: number): Promise<void> {
    const journalDir = this.#abs(JOURNAL_DIR);
    for (const entry of (await this.#fs.list(journalDir)) ?? []) {
      const n = segmentNumber(entry.name);
      if (n !== null && n <= upTo) await this.#fs.remove(`${journalDir}/${entry.name}`);
    }
    await this.#fs.syncDir(journalDir);
  }

  #kick(): void {
    if (this.#committing || this.#failure) return;
    this.#committing = this.#commitLoop().finally(() => {
      this.#committing = null;
      // A commit made after the loop's last check, but before this runs, found it still busy.
      if (this.#queue.length > 0 || this.#checkpointWanted) this.#kick();
    });
  }

  async #commitLoop(): Promise<void> {
    while (!this.#failure && (this.#queue.length > 0 || this.#checkpointWanted)) {
      if (this.#checkpointWanted) await this.#rotate();
      if (this.#queue.length === 0) continue;
      const group = this.#queue.splice(0);
      try {
        const text = group.map((queued) => queued.record).join("");
        await this.#segment!.append(encoder.encode(text));
        await this.#segment!.sync();
        this.#segmentSize += text.length;
      } catch (error) {
        this.#fail(error, group);
        return;
      }
      for (const queued of group) this.#journal(queued);
      for (const queued of group) queued.resolve();
      this.#scheduleCheckpoint();
    }
  }

  /** Moves a change set from the unjournaled layer to the journaled one. */
  #journal(queued: Queued): void {
    for (const [path, value] of queued.changes) {
      this.#journaled.set(path, value);
      if (this.#unjournaled.get(path)?.seq === queued.seq) this.#unjournaled.delete(path);
    }
  }

  #scheduleCheckpoint(): void {
    if (this.#segmentSize >= this.#segmentLimit && !this.#closing) {
      this.#checkpointWanted = true;
    } else if (this.#checkpointTimer === null && this.#segmentSize > 0 && !this.#closing) {
      this.#checkpointTimer = this.#clock.setTimer(this.#checkpointDelay, () => {
        this.#checkpointTimer = null;
        this.#checkpointWanted = true;
        this.#kick();
      });
    }
  }

  /**
   * Starts a new segment and checkpoints the old ones in the background. Runs inside the
   * commit loop, so no append is in flight on the old segment.
   */
  async #rotate(): Promise<void> {
    this.#checkpointWanted = false;
    if (this.#checkpoint || this.#segmentSize === 0) return;
    this.#checkpointTimer?.cancel();
    this.#checkpointTimer = null;
    const old = this.#segmentNo;
    const snapshot = new Map(this.#journaled);
    try {
      this.#segment!.close();
      await this.#openSegment(old + 1);
    } catch (error) {
      this.#fail(error, []);
      return;
    }
    this.#checkpoint = this.#checkpointInto(old, snapshot).finally(() => {
      this.#checkpoint = null;
    });
  }

  async #checkpointInto(oldSegment: number, snapshot: Map<string, string | null>): Promise<void> {
    try {
      await this.#writeFiles(snapshot);
      await this.#removeSegments(oldSegment);
    } catch (error) {
      this.#fail(error, []);
      return;
    }
    for (const [path, value] of snapshot) {
      if (this.#journaled.get(path) !== value) continue;
      this.#journaled.delete(path);
      if (value !== null && !this.#unjournaled.has(path)) this.#remember(path, value);
    }
    this.#checkpointsDone++;
    this.#log.debug("checkpoint", { files: snapshot.size, segment: oldSegment });
  }

  async #writeFiles(files: Map<string, string | null>): Promise<void> {
    const absolute = [...files].map(([path, value]) =>
      [this.#abs(path), value] as [string, string | null]
    );
    const modes = Object.fromEntries(
      absolute.filter(([path]) => path.endsWith("/secretkey.txt")).map((
        [path],
      ) => [path, SECRET_MODE]),
    );
    await writeDurableBatch(this.#fs, absolute, modes);
  }

  #fail(error: unknown, group: Queued[]): void {
    const failure = new StoreFailedError(
      `storage failed: ${error instanceof Error ? error.message : error}`,
      {
        cause: error,
      },
    );
    this.#failure ??= failure;
    this.#log.error("storage-failed", { error: failure.message });
    for (const queued of [...group, ...this.#queue.splice(0)]) queued.reject(this.#failure);
    this.#checkpointTimer?.cancel();
    this.#checkpointTimer = null;
  }
}
