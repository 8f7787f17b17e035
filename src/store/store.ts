/**
 * The store: text files under `datadir/ripple`, changed only through atomic change sets that
 * are group-committed to a redo journal and later checkpointed into the files.
 */

import { type Clock, systemClock, type Timer } from "../core/clock.ts";
import { type Logger, silentLogger } from "../core/log.ts";
import { isHidden, SECRET_MODE, syncAncestors, writeDurableBatch } from "./durable.ts";
import { dirname, type FileSystem, isDiskFull } from "./fs.ts";
import { type ChangeSet, encodeRecord, JournalCorruptError } from "./journal.ts";
import { Overlay } from "./overlay.ts";
import { DiskFullError, Segments } from "./segments.ts";

export { DiskFullError } from "./segments.ts";

/** Tuning and collaborators of a {@linkcode Store}. */
export interface StoreOptions {
  clock?: Clock;
  logger?: Logger;
  /** Start a checkpoint once the current journal segment holds this many bytes. */
  segmentBytes?: number;
  /** Start a checkpoint this long after the first change of a segment. */
  checkpointDelayMs?: number;
  /** Clean files kept in memory, and as many names of files known missing. */
  cacheEntries?: number;
  /**
   * A change set committed with {@linkcode Store.commitDeferred} reaches the journal at
   * the latest this long after it was committed (sooner with the next ordinary commit).
   */
  deferMs?: number;
  /** Deferred change sets waiting at most: one more starts the journal write at once. */
  deferLimit?: number;
  /**
   * Files a checkpoint writes at a time; a stop waits for at most one such batch. A stop, or
   * a start, with more files than this in the journal leaves them there (the next start
   * replays them) and serves them from memory, instead of writing them all then.
   */
  batchFiles?: number;
  /** Replay the journal in memory and never write (for reading a datadir a server may be using). */
  readOnly?: boolean;
  /**
   * Called once when storage fails for good (a write or fsync error other than a full disk):
   * the store refuses every change from then on, and the server must stop.
   */
  onFailure?: (error: StoreFailedError) => void;
}

/** The store cannot accept changes: a write or fsync failed, or it was closed. */
export class StoreFailedError extends Error {
  override name = "StoreFailedError";
}

const JOURNAL_DIR = "journal";
/**
 * The files other processes create beside a running server (`ripple account add`, `ripple
 * peer add`): a key. A missing key is never remembered, and a key found on disk makes the
 * store forget what it remembered missing in the key's directory, where they write too.
 */
const SHARED_FILE = "/secretkey.txt";
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
 * A full disk is not a failure: the change sets that did not fit are refused with
 * {@linkcode DiskFullError} and forgotten, with every change set committed after them
 * (they may have read them), and the next commit tries again. Any other write error, and
 * any fsync error, is: the store refuses everything from then on.
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
  #readOnly: boolean;
  #onFailure?: (error: StoreFailedError) => void;
  #overlay: Overlay;
  #segments: Segments;

  #queue: Queued[] = [];
  #seq = 0;
  #committing: Promise<void> | null = null;
  #checkpointWanted = false;
  #checkpointTimer: Timer | null = null;
  #checkpoint: Promise<void> | null = null;
  #checkpointDeferred = false;
  #failure: StoreFailedError | null = null;
  #closing = false;
  #last: Promise<void> = Promise.resolve();
  /** Checkpoints finished, so a disk read or listing can tell that one overtook it. */
  #checkpointsDone = 0;
  /** Times change sets were forgotten for lack of space; see {@linkcode Store.generation}. */
  #generation = 0;
  #full = false;
  #deferMs: number;
  #deferLimit: number;
  /** Ordinary (not deferred) change sets in the queue: any one starts the journal write. */
  #eager = 0;
  #deferredDue = false;
  #deferTimer: Timer | null = null;
  #batchFiles: number;

  private constructor(fs: FileSystem, root: string, options: StoreOptions) {
    this.#fs = fs;
    this.#root = root;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger;
    this.#segmentLimit = options.segmentBytes ?? 4 * 1024 * 1024;
    this.#checkpointDelay = options.checkpointDelayMs ?? 2000;
    this.#readOnly = options.readOnly ?? false;
    this.#onFailure = options.onFailure;
    this.#overlay = new Overlay(options.cacheEntries ?? 8_192);
    this.#deferMs = options.deferMs ?? 50;
    this.#deferLimit = options.deferLimit ?? 1024;
    this.#batchFiles = options.batchFiles ?? 512;
    this.#segments = new Segments(fs, this.#abs(JOURNAL_DIR));
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

  /**
   * The text of a file, or undefined if it does not exist. Both are remembered (within
   * the cache's bounds), so a missing file costs the disk once, except a key: see
   * `SHARED_FILE`.
   */
  async read(path: string): Promise<string | undefined> {
    const value = this.#overlay.get(path);
    if (value !== undefined) return value ?? undefined;
    const checkpoints = this.#checkpointsDone;
    const bytes = await this.#fs.read(this.#abs(path));
    // A commit, or a whole checkpoint, may have landed while the disk read ran.
    if (this.#overlay.has(path) || this.#checkpointsDone !== checkpoints) return this.read(path);
    const shared = path.endsWith(SHARED_FILE);
    if (bytes === null) {
      if (!shared) this.#overlay.rememberMissing(path);
      return undefined;
    }
    if (shared) this.#overlay.forgetMissingIn(dirname(path));
    const text = decoder.decode(bytes);
    this.#overlay.remember(path, text);
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
    this.#overlay.overlayNames(dir, names);
    return [...names].sort();
  }

  /**
   * How many times change sets were forgotten for lack of space. A change set built on
   * reads made in an earlier generation may rest on one of them, so
   * {@linkcode Store.commit} and {@linkcode Store.barrier} refuse it.
   */
  get generation(): number {
    return this.#generation;
  }

  /** Whether the last journal write failed for lack of space (and none has succeeded since). */
  get full(): boolean {
    return this.#full;
  }

  /**
   * Commits a change set atomically: after a crash either all of it or none of it is there.
   * Reads see it at once; the promise resolves when it is durable. `readIn` is the
   * {@linkcode Store.generation} its reads were made in, if any.
   */
  commit(changes: ChangeSet, readIn?: number): Promise<void> {
    const durable = this.#enqueue(changes, readIn, false);
    this.#last = durable.catch(() => {});
    return durable;
  }

  /**
   * Commits a change set that nobody waits for: reads see it at once, as with
   * {@linkcode Store.commit}, but it reaches the journal with the next ordinary change set
   * or at the latest `deferMs` later, many in one fsync. {@linkcode Store.barrier} does not
   * wait for it. The journal keeps commit order, so an ordinary change set committed after
   * it is durable only once it is too. For a change the server may acknowledge before it is
   * durable (a read's client counter, docs/protocol.md §1).
   */
  commitDeferred(changes: ChangeSet, readIn?: number): Promise<void> {
    const durable = this.#enqueue(changes, readIn, true);
    durable.catch(() => {});
    return durable;
  }

  #enqueue(changes: ChangeSet, readIn: number | undefined, deferred: boolean): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#readOnly) return Promise.reject(new StoreFailedError("store is read-only"));
    // close() may already have written the files and be removing the journal it would go to.
    if (this.#closing) return Promise.reject(new StoreFailedError("store is closing"));
    for (const path of changes.keys()) {
      if (!SAFE_PATH.test(path) || path.includes("..")) {
        return Promise.reject(new StoreFailedError(`unsafe path ${JSON.stringify(path)}`));
      }
    }
    if (readIn !== undefined && readIn !== this.#generation) {
      return Promise.reject(new DiskFullError());
    }
    const seq = ++this.#seq;
    this.#overlay.stage(seq, changes);
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ seq, changes, record: encodeRecord(changes), resolve, reject });
      if (!deferred) {
        this.#eager++;
      } else if (this.#queue.length - this.#eager >= this.#deferLimit) {
        this.#deferredDue = true;
      } else if (this.#deferTimer === null) {
        this.#deferTimer = this.#clock.setTimer(this.#deferMs, () => {
          this.#deferTimer = null;
          this.#deferredDue = true;
          this.#kick();
        });
      }
      this.#kick();
    });
  }

  /**
   * Resolves once every change set committed so far is durable: what a run read may have
   * come from one, so it waits for this before announcing anything. Rejects if storage
   * failed, or if change sets were forgotten since generation `readIn` (what was read may
   * have been one of them).
   */
  barrier(readIn?: number): Promise<void> {
    return this.#last.then(() => {
      if (this.#failure) throw this.#failure;
      if (readIn !== undefined && readIn !== this.#generation) throw new DiskFullError();
    });
  }

  /**
   * Resolves when everything committed so far, deferred change sets included, is durable;
   * throws if storage failed.
   */
  async flush(): Promise<void> {
    if (this.#queue.length > 0) {
      this.#deferredDue = true;
      this.#kick();
    }
    while (this.#committing) await this.#committing;
    if (this.#failure) throw this.#failure;
  }

  /** Files whose latest values are in the journal only, not yet in the files themselves. */
  get journaledFiles(): number {
    return this.#overlay.journaled.size;
  }

  /** Bytes in the current journal segment (for status and tests). */
  get journalBytes(): number {
    return this.#segments.size;
  }

  /**
   * Makes everything durable and stops: in the files themselves, removing the journal, when
   * the journal changed at most one batch of files (`batchFiles`); else, and on a full disk,
   * the journal stays, whole, for the next start to replay. A checkpoint running stops after
   * its current batch. Later commits fail.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#checkpointTimer?.cancel();
    this.#checkpointTimer = null;
    if (this.#readOnly) return;
    this.#deferTimer?.cancel();
    this.#deferTimer = null;
    try {
      await this.flush();
      while (this.#checkpoint) await this.#checkpoint;
      await this.flush();
      if (this.#pending > this.#batchFiles) {
        this.#log.info("journal-kept", {
          reason: "the next start replays it",
          files: this.#pending,
        });
        return;
      }
      if ((await this.#writeFiles(new Map(this.#overlay.journaled))) === "full") {
        this.#log.warn("journal-kept", { reason: "the disk is full", files: this.#pending });
        return;
      }
      this.#segments.close();
      await this.#segments.removeUpTo(this.#segments.current);
    } finally {
      this.#segments.close();
    }
  }

  #abs(path: string): string {
    return `${this.#root}/${path}`;
  }

  get #pending(): number {
    return this.#overlay.journaled.size;
  }

  async #recover(): Promise<void> {
    const journal = await this.#segments.read();
    const replayed = new Map<string, string | null>();
    for (const changes of journal.records) {
      for (const [path, value] of changes) {
        if (!SAFE_PATH.test(path) || path.includes("..")) {
          throw new JournalCorruptError(`journal names an unsafe path ${JSON.stringify(path)}`);
        }
        replayed.set(path, value);
      }
    }
    if (journal.torn !== null) {
      this.#log.warn("journal-torn-tail-dropped", {
        segment: journal.torn.segment,
        kept: journal.torn.bytes,
      });
    }
    if (this.#readOnly) return this.#overlay.replay(replayed);
    const journalDir = this.#abs(JOURNAL_DIR);
    await this.#fs.mkdir(journalDir);
    // Many files are left to the checkpoints, in batches, so that a start stays quick.
    const many = replayed.size > this.#batchFiles;
    const written = !many && (await this.#writeFiles(replayed)) === "written";
    // Before any segment goes: a directory of these files, or the journal's own, may have
    // been created by a life that ended before it fsynced the directory's parent. The
    // datadir itself (the root's parent) must be a durable entry too.
    const dirs = [...replayed.keys()].map((path) => dirname(this.#abs(path)));
    await syncAncestors(this.#fs, [journalDir, ...dirs], dirname(this.#root));
    if (!written) {
      // Serve from the journal and write the files in later checkpoints; the torn tail
      // must go first, as the segment will no longer be the last.
      if (journal.torn !== null) await this.#segments.cut(journal.torn.segment, journal.torn.bytes);
      this.#overlay.replay(replayed);
      if (many) {
        this.#log.info("journal-replayed", {
          records: journal.records.length,
          files: replayed.size,
          written: "by the next checkpoint",
        });
      } else {
        this.#log.warn("journal-kept", { reason: "the disk is full", files: replayed.size });
      }
      await this.#segments.open(journal.last + 1);
      this.#scheduleCheckpoint();
      return;
    }
    if (journal.records.length > 0) {
      this.#log.info("journal-replayed", {
        records: journal.records.length,
        files: replayed.size,
      });
    }
    await this.#segments.removeUpTo(journal.last);
    await this.#segments.open(journal.last + 1);
  }

  /** Whether the queue holds change sets that should be written now. */
  get #writeDue(): boolean {
    return this.#queue.length > 0 && (this.#eager > 0 || this.#deferredDue);
  }

  #kick(): void {
    if (this.#committing || this.#failure) return;
    if (!this.#writeDue && !this.#checkpointWanted) return;
    this.#committing = this.#commitLoop().finally(() => {
      this.#committing = null;
      // A commit made after the loop's last check, but before this runs, found it still busy.
      this.#kick();
    });
  }

  async #commitLoop(): Promise<void> {
    while (!this.#failure && (this.#writeDue || this.#checkpointWanted)) {
      if (this.#checkpointWanted) await this.#rotate();
      if (!this.#writeDue) continue;
      const group = this.#takeQueue();
      const bytes = encoder.encode(group.map((queued) => queued.record).join(""));
      const started = performance.now();
      try {
        await this.#segments.append(bytes);
      } catch (error) {
        if (error instanceof DiskFullError) this.#forget(group, error);
        else this.#fail(error, group);
        continue;
      }
      if (this.#full) {
        this.#full = false;
        this.#log.info("disk-space-returned", { segment: this.#segments.current });
      }
      this.#log.debug("journal-written", () => ({
        changeSets: group.length,
        bytes: bytes.length,
        ms: Math.round((performance.now() - started) * 100) / 100,
      }));
      for (const queued of group) this.#overlay.journal(queued.seq, queued.changes);
      for (const queued of group) queued.resolve();
      this.#scheduleCheckpoint();
    }
  }

  /**
   * The disk had no room for `group`: it and every change set queued after it (which may
   * have read it) are refused and forgotten, and a new generation starts.
   */
  #forget(group: Queued[], error: DiskFullError): void {
    const refused = [...group, ...this.#takeQueue()];
    this.#overlay.dropUnjournaled();
    this.#generation++;
    if (!this.#full) {
      this.#full = true;
      this.#log.warn("disk-full", { refused: refused.length, segment: this.#segments.current });
    }
    for (const queued of refused) queued.reject(error);
  }

  /** Takes every queued change set, deferred ones included. */
  #takeQueue(): Queued[] {
    this.#eager = 0;
    this.#deferredDue = false;
    return this.#queue.splice(0);
  }

  #scheduleCheckpoint(): void {
    if (this.#closing) return;
    if (this.#segments.size >= this.#segmentLimit) {
      this.#checkpointWanted = true;
    } else if (this.#checkpointTimer === null && this.#pending > 0) {
      this.#checkpointTimer = this.#clock.setTimer(this.#checkpointDelay, () => {
        this.#checkpointTimer = null;
        this.#checkpointWanted = true;
        this.#kick();
      });
    }
  }

  /**
   * Starts a new segment (unless the current one is empty) and checkpoints the older ones
   * in the background. Runs inside the commit loop, so no append is in flight.
   */
  async #rotate(): Promise<void> {
    this.#checkpointWanted = false;
    if (this.#checkpoint || this.#pending === 0) return;
    this.#checkpointTimer?.cancel();
    this.#checkpointTimer = null;
    let upTo = this.#segments.current - 1;
    if (this.#segments.size > 0) {
      try {
        await this.#segments.open(this.#segments.current + 1);
      } catch (error) {
        if (isDiskFull(error)) this.#deferCheckpoint();
        else this.#fail(error, []);
        return;
      }
      upTo++;
    }
    const snapshot = new Map(this.#overlay.journaled);
    this.#checkpoint = this.#checkpointInto(upTo, snapshot).finally(() => {
      this.#checkpoint = null;
      // Changes made meanwhile wait for the next one; their timer may have fired during this.
      if (!this.#failure) this.#scheduleCheckpoint();
    });
  }

  /** Writes `snapshot` into the files, then removes the segments up to `upTo`, which it covers. */
  async #checkpointInto(upTo: number, snapshot: Map<string, string | null>): Promise<void> {
    try {
      const outcome = await this.#writeFiles(snapshot);
      if (outcome === "full") return this.#deferCheckpoint();
      // Stopped between two batches: the journal keeps everything for the next start.
      if (outcome === "stopped") return;
      // A failure elsewhere in the store stops everything at once, removals included.
      if (this.#failure) return;
      await this.#segments.removeUpTo(upTo);
    } catch (error) {
      this.#fail(error, []);
      return;
    }
    this.#overlay.checkpointed(snapshot);
    this.#checkpointsDone++;
    if (this.#checkpointDeferred) {
      this.#checkpointDeferred = false;
      this.#log.info("checkpoint-resumed", { files: snapshot.size });
    }
    this.#log.debug("checkpoint", { files: snapshot.size, segment: upTo });
  }

  /** A checkpoint found no room: the journal keeps everything, and it is tried again later. */
  #deferCheckpoint(): void {
    if (!this.#checkpointDeferred) {
      this.#checkpointDeferred = true;
      this.#log.warn("checkpoint-deferred", { reason: "the disk is full", files: this.#pending });
    }
    this.#scheduleCheckpoint();
  }

  /**
   * Writes files durably, `batchFiles` at a time: "full" if the disk had no room, "stopped"
   * if the store began closing between two batches (nothing is lost either way: the
   * journal has them).
   */
  async #writeFiles(files: Map<string, string | null>): Promise<"written" | "full" | "stopped"> {
    const all = [...files];
    for (let from = 0; from < all.length; from += this.#batchFiles) {
      if (from > 0 && this.#closing) return "stopped";
      const batch = all.slice(from, from + this.#batchFiles).map(([path, value]) =>
        [this.#abs(path), value] as [string, string | null]
      );
      const modes = Object.fromEntries(
        batch.filter(([path]) => path.endsWith(SHARED_FILE)).map(([path]) => [path, SECRET_MODE]),
      );
      try {
        await writeDurableBatch(this.#fs, batch, modes);
      } catch (error) {
        if (isDiskFull(error)) return "full";
        throw error;
      }
    }
    return "written";
  }

  #fail(error: unknown, group: Queued[]): void {
    const first = this.#failure === null;
    this.#failure ??= new StoreFailedError(
      `storage failed: ${error instanceof Error ? error.message : error}`,
      { cause: error },
    );
    for (const queued of [...group, ...this.#takeQueue()]) queued.reject(this.#failure);
    this.#checkpointTimer?.cancel();
    this.#checkpointTimer = null;
    this.#deferTimer?.cancel();
    this.#deferTimer = null;
    if (!first) return;
    if (this.#onFailure) this.#onFailure(this.#failure);
    else this.#log.error("storage-failed", { error: this.#failure.message });
  }
}
