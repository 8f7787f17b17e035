/**
 * A server without its sockets: datagrams in, answers and server datagrams out. The TCP
 * listener and the simulator both drive this same object.
 */

import { type Mac, WebCryptoMac } from "../auth/hmac.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { DEFAULT_DISPLAY, DEFAULT_LIMITS, type DisplayUnit, type Limits } from "../core/config.ts";
import type { Feature } from "../core/context.ts";
import { type Fields, type Logger, silentLogger } from "../core/log.ts";
import { type FileSystem, isOutOfFiles } from "../store/fs.ts";
import { ACCOUNTS_DIR, listPeers, PENDING_DIR, pendingPath } from "../store/paths.ts";
import { DiskFullError, Store, type StoreOptions } from "../store/store.ts";
import { Tx } from "../store/tx.ts";
import { commandName } from "../wire/commands.ts";
import { type Datagram, DatagramError, decodeDatagram, isServerCommand } from "../wire/datagram.ts";
import { type AccountRef, isUsername } from "../wire/names.ts";
import { encodeResponse, responseMacInput, Status, type StatusCode } from "../wire/response.ts";
import { Dispatcher, type Reply } from "./dispatch.ts";
import { createFeatures } from "./features.ts";
import type { SearchEngine } from "../paths/search.ts";
import { BusyError, LockManager } from "./lock_manager.ts";
import { Run } from "./run.ts";
import { Scheduler } from "./scheduler.ts";
import { type Outbound, Sender } from "./sender.ts";
import type { Transport } from "./transport.ts";

/** Everything a node runs on; all but the file system, datadir, address and transport have defaults. */
export interface NodeOptions {
  fs: FileSystem;
  /** The datadir; the node keeps its files in `datadir/ripple`. */
  datadir: string;
  /** This server's public address, canonical, as peers reach it. */
  address: string;
  transport: Transport;
  clock?: Clock;
  mac?: Mac;
  logger?: Logger;
  /** Source of randomness for resend spread; the simulator passes a seeded one. */
  random?: () => number;
  limits?: Partial<Limits>;
  /** How clients show amounts; whole numbers with no unit by default. */
  display?: DisplayUnit;
  store?: Omit<StoreOptions, "clock" | "logger" | "onFailure">;
  /**
   * Called once if storage fails for good (any write or fsync error but a full disk): the
   * node can no longer change anything, and the process should exit so that a supervisor
   * starts it again, replaying the journal.
   */
  onFatal?: (error: Error) => void;
  /** Called when a request found no file descriptor to open its files with. */
  onOutOfFiles?: () => void;
}

const ZERO_MAC = new Uint8Array(32);
const encoder = new TextEncoder();

/**
 * A run whose change set need not be waited for (docs/protocol.md §1): a client read, or a
 * search datagram that changed nothing on disk but its incoming counter.
 */
type Deferrable = "read" | "memory-only" | null;

/** An account's pending marker: on disk, or in a change set of store generation `generation`. */
interface Marker {
  durable: boolean;
  generation: number;
}

/**
 * One ripple server's protocol engine.
 *
 * @example
 * ```ts ignore
 * const node = await Node.open({ fs, datadir: "./data", address: "127.0.0.2", transport });
 * const answer = await node.receive(datagramBytes); // the signed answer, or null
 * await node.close();
 * ```
 */
export class Node {
  readonly address: string;
  readonly store: Store;
  readonly limits: Limits;
  /** The path searches in memory (read-only use: status and the simulator's checks). */
  readonly search: SearchEngine;
  #clock: Clock;
  #mac: Mac;
  #log: Logger;
  #locks: LockManager;
  #sender: Sender;
  #scheduler: Scheduler;
  #dispatcher: Dispatcher;
  #features: Feature[];
  #pending = new Map<string, Marker>();
  #inflight = new Set<Promise<unknown>>();
  #closing = false;
  #onFatal?: (error: Error) => void;
  #onOutOfFiles?: () => void;
  #fatal: Error | null = null;

  private constructor(options: NodeOptions, store: Store) {
    this.address = options.address;
    this.store = store;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#clock = options.clock ?? systemClock;
    this.#mac = options.mac ?? new WebCryptoMac();
    this.#log = options.logger ?? silentLogger;
    this.#onFatal = options.onFatal;
    this.#onOutOfFiles = options.onOutOfFiles;
    const random = options.random ?? Math.random;
    this.#locks = new LockManager({ maxQueued: this.limits.queuePerAccount });
    const features = createFeatures({
      limits: this.limits,
      random,
      address: options.address,
      display: options.display ?? DEFAULT_DISPLAY,
    });
    this.#features = features.list;
    this.search = features.search;
    this.#sender = new Sender({
      store,
      transport: options.transport,
      mac: this.#mac,
      address: options.address,
      logger: this.#log,
      maxQueue: this.limits.outboxPerPeer,
      superseding: new Set(this.#features.flatMap((f) => [...f.superseding ?? []])),
      onDelivered: (from, message) => this.#delivered(from, message),
    });
    this.#scheduler = new Scheduler(this.#clock, (username) => this.#wake(username), 16);
    this.#dispatcher = new Dispatcher(store, this.#mac, this.#features, this.#log);
  }

  /** Opens the datadir (replaying its journal) and schedules every account with work in flight. */
  static async open(options: NodeOptions): Promise<Node> {
    let opened: Node | null = null;
    const store = await Store.open(options.fs, `${options.datadir}/ripple`, {
      ...options.store,
      clock: options.clock,
      logger: options.logger,
      onFailure: (error) => {
        if (opened !== null) opened.#fail(error);
      },
    });
    const node = opened = new Node(options, store);
    const now = node.#clock.now();
    for (const username of await store.list(PENDING_DIR)) {
      if (!isUsername(username)) continue;
      node.#pending.set(username, { durable: true, generation: store.generation });
      node.#scheduler.schedule(username, now);
    }
    // Routing labels live in memory: every account with peers greets them again after a start.
    if (node.limits.labelTrees > 0) {
      const accounts = (await store.list(ACCOUNTS_DIR)).filter(isUsername);
      node.#track(node.#greetAfterStart(accounts));
    }
    node.#log.info("node-opened", { address: options.address, pending: node.#pending.size });
    return node;
  }

  /**
   * Takes one datagram as read from a connection. The account's place in line is fixed
   * before this returns, so datagrams are handled in the order they were received.
   * Resolves with the signed answer for a client command, null for a server command.
   */
  receive(bytes: Uint8Array): Promise<Uint8Array | null> {
    const fromClient = bytes.length > 0 && !isServerCommand(bytes[0]);
    let datagram: Datagram;
    try {
      datagram = decodeDatagram(bytes);
    } catch (error) {
      if (!(error instanceof DatagramError)) throw error;
      this.#log.warn("datagram-rejected", {
        reason: error.message,
        from: fromClient ? "client" : "server",
      });
      return Promise.resolve(fromClient ? unsigned(Status.Malformed, error.message) : null);
    }
    if (!this.#dispatcher.knows(datagram.command)) {
      this.#log.warn("unknown-command", { command: datagram.command, account: datagram.username });
      return Promise.resolve(fromClient ? unsigned(Status.Malformed, "unknown command") : null);
    }
    const received = performance.now();
    let started = 0;
    const handled = this.#locks
      .run(datagram.username, () => {
        started = performance.now();
        return this.#handle(datagram);
      })
      .then((reply) => {
        const trace = {
          account: datagram.username,
          command: commandName(datagram.command),
          peer: datagram.peerUsername || undefined,
          queuedMs: ms(started - received),
          handledMs: ms(performance.now() - started),
        };
        return this.#deliver(reply, trace);
      })
      .catch((error) => this.#failed(error, datagram, fromClient));
    return this.#track(handled);
  }

  /** Datagrams waiting in outbound lanes (for status). */
  get outboxSize(): number {
    return this.#sender.queued;
  }

  /** Accounts with resends or timers in flight. */
  get pendingAccounts(): number {
    return this.#pending.size;
  }

  /** Finishes the datagrams in hand, stops timers and senders, and checkpoints the store. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#scheduler.stop();
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    await this.#sender.close();
    // Deliveries noticed while the last sends went out are recorded before the store closes.
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    await this.store.close();
    this.#log.info("node-closed", { address: this.address });
  }

  async #handle(datagram: Datagram): Promise<Reply> {
    const run = (peer: AccountRef | null) =>
      new Run(datagram.username, this.#clock.now(), new Tx(this.store), this.#log, peer);
    const reply = isServerCommand(datagram.command)
      ? await this.#dispatcher.server(datagram, run)
      : await this.#dispatcher.client(datagram, run);
    if (reply.run) {
      const deferrable = reply.read ? "read" : reply.memoryOnly ? "memory-only" : null;
      reply.durable = this.#commit(reply.run, false, deferrable);
    }
    return reply;
  }

  /**
   * Commits a run with its pending marker, schedules its wakes; resolves when durable, or
   * for a read (a run whose only change is its client counter) once what it read is
   * durable: its counter may be acknowledged before it is (docs/protocol.md §1), so it
   * reaches the journal deferred, in a batch. A read on a full disk is answered without
   * storing its counter, which could not be stored. A search datagram whose only change is
   * its incoming counter (and the marker for the timers of its memory state) is committed
   * deferred in the same way, its datagrams waiting only for what it read; on a full disk
   * it is an ordinary change set, refused as before. A wake whose only change is the
   * removal of the account's pending marker commits it deferred in the same way.
   */
  #commit(run: Run, isWake: boolean, deferrable: Deferrable = null): Promise<void> {
    const read = deferrable === "read";
    const username = run.username;
    let marker: Marker | undefined;
    let unmarked = false;
    if (run.wakes.length > 0) {
      if (!this.#hasMarker(username)) {
        run.tx.set(pendingPath(username), "");
        marker = { durable: false, generation: run.tx.generation };
        this.#pending.set(username, marker);
      }
      for (const at of run.wakes) this.#scheduler.schedule(username, at);
    } else if (
      isWake && this.#pending.has(username) && this.#scheduler.dueAt(username) === undefined
    ) {
      run.tx.set(pendingPath(username), null);
      this.#pending.delete(username);
      unmarked = true;
    }
    if (run.tx.changes.size === 0 || (read && this.store.full)) {
      return this.store.barrier(run.tx.generation);
    }
    // A marker's removal alone need not be waited for (docs/protocol.md §4): if a crash
    // loses it, the next start wakes the account once more for nothing.
    const memoryOnly = deferrable === "memory-only" && !this.store.full;
    if (read || memoryOnly || (unmarked && run.tx.changes.size === 1)) {
      // The barrier is taken first: it waits for what the run read, not for its own change.
      const readDurable = this.store.barrier(run.tx.generation);
      const deferred = this.store.commitDeferred(run.tx.changes, run.tx.generation);
      if (marker) deferred.then(() => marker.durable = true, () => {});
      return readDurable;
    }
    const durable = this.store.commit(run.tx.changes, run.tx.generation);
    if (marker) durable.then(() => marker.durable = true, () => {});
    return durable;
  }

  /** Whether the account's marker is on disk or on its way there (not forgotten for lack of space). */
  #hasMarker(username: string): boolean {
    const marker = this.#pending.get(username);
    return marker !== undefined &&
      (marker.durable || marker.generation === this.store.generation);
  }

  /**
   * Once the run is durable, sends its datagrams and signs its answer. A full disk is
   * answered `busy` (nothing happened; try again later) and rethrown for server datagrams
   * and wakes; any other storage error stops the node.
   */
  async #deliver(reply: Reply, trace?: Fields): Promise<Uint8Array | null> {
    const handled = performance.now();
    try {
      await reply.durable;
      reply.run?.done();
      // Where a datagram's time goes, for tracing latency (bench/payment_trace.ts).
      if (trace) {
        this.#log.debug("datagram-handled", () => ({
          ...trace,
          durableMs: ms(performance.now() - handled),
          sends: reply.run?.outbound.length ?? 0,
        }));
      }
    } catch (error) {
      reply.run?.undone();
      if (!(error instanceof DiskFullError)) {
        this.#fail(error);
        return reply.status === undefined ? null : unsigned(Status.InternalError, "storage failed");
      }
      if (reply.status === undefined) throw error;
      return await this.#answer(reply, Status.Busy, encoder.encode(error.message));
    }
    for (const message of reply.run?.outbound ?? []) {
      this.#sender.send(reply.run!.username, message);
    }
    if (reply.status === undefined) return null;
    return await this.#answer(reply, reply.status, reply.body ?? new Uint8Array());
  }

  async #answer(reply: Reply, status: StatusCode, body: Uint8Array): Promise<Uint8Array> {
    if (reply.key === null) return encodeResponse(status, body, ZERO_MAC);
    const mac = await this.#mac.sign(
      reply.key,
      responseMacInput(reply.requestSignature!, status, body),
    );
    return encodeResponse(status, body, mac);
  }

  #failed(error: unknown, datagram: Datagram, fromClient: boolean): Uint8Array | null {
    const fields = { account: datagram.username, command: commandName(datagram.command) };
    if (error instanceof DiskFullError) {
      // Not applied and its counter not used: the peer's resend brings it again.
      this.#log.debug("server-datagram-refused", { ...fields, reason: error.message });
      return null;
    }
    if (error instanceof BusyError) {
      this.#log.warn("account-busy", fields);
      return fromClient ? unsigned(Status.Busy, "the account is busy, try again shortly") : null;
    }
    if (isOutOfFiles(error)) {
      // A file could not be opened, so nothing was applied: like a full disk, the client may
      // try again and the peer's resend brings its datagram again.
      this.#log.warn("out-of-files", { ...fields, error: describe(error) });
      this.#onOutOfFiles?.();
      return fromClient
        ? unsigned(Status.Busy, "the server is out of file descriptors, try again shortly")
        : null;
    }
    this.#log.error("datagram-failed", { ...fields, error: describe(error) });
    return fromClient ? unsigned(Status.InternalError, "internal error") : null;
  }

  /** A datagram some feature wants to know was delivered: let it record so, durably. */
  #delivered(username: string, message: Outbound): void {
    const listening = this.#features.filter((f) => f.deliveries?.has(message.command));
    if (listening.length === 0) return;
    const work = this.#locks.run(username, async () => {
      const run = new Run(username, this.#clock.now(), new Tx(this.store), this.#log, null);
      for (const feature of listening) {
        await feature.delivered!(run, message.to, message.command, message.args);
      }
      return { run, durable: this.#commit(run, false) } as Reply;
    });
    // Best effort: a lost notice only leaves the record as if the datagram had not arrived.
    this.#track(work.then((reply) => this.#deliver(reply)).catch(() => {}));
  }

  /**
   * Wakes the accounts that have peers, for their label greeting, one listing at a time
   * after the start: with tens of thousands of accounts a wake of each (every feature's
   * listings, the account's lock, a run) took the server's thread from its clients for a
   * minute, and most of those accounts may have no peer. A peer added meanwhile is greeted
   * when it is first heard from (the labels' `met`).
   */
  async #greetAfterStart(accounts: string[]): Promise<void> {
    for (const [i, username] of accounts.entries()) {
      if (this.#closing) return;
      try {
        const peers = await listPeers(this.store, username);
        if (peers.length > 0) this.#scheduler.schedule(username, this.#clock.now());
      } catch (error) {
        // The wakes list again, and retry what they must: every account left is woken.
        this.#log.warn("greeting-listing-failed", { account: username, error: describe(error) });
        for (const left of accounts.slice(i)) this.#scheduler.schedule(left, this.#clock.now());
        return;
      }
    }
  }

  async #wake(username: string): Promise<void> {
    const work = this.#locks.run(username, async () => {
      const run = new Run(username, this.#clock.now(), new Tx(this.store), this.#log, null);
      for (const feature of this.#features) await feature.wake?.(run);
      return { run, durable: this.#commit(run, true) } as Reply;
    });
    try {
      await this.#deliver(await work, { account: username, command: "wake" });
    } catch (error) {
      if (error instanceof BusyError || error instanceof DiskFullError || isOutOfFiles(error)) {
        this.#scheduler.schedule(username, this.#clock.now() + this.limits.retryBaseMs);
      } else {
        this.#log.error("wake-failed", { account: username, error: describe(error) });
      }
    }
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inflight.add(promise);
    promise.finally(() => this.#inflight.delete(promise)).catch(() => {});
    return promise;
  }

  /** Storage failed for good: one log line, and the owner is told to stop the process. */
  #fail(error: unknown): void {
    if (this.#fatal) return;
    this.#fatal = error instanceof Error ? error : new Error(String(error));
    this.#log.error("storage-failed", {
      error: this.#fatal.message,
      action: "the server stops; start it again to replay its journal",
    });
    this.#onFatal?.(this.#fatal);
  }
}

/** An answer that could not be authenticated, so it carries a zero mac. */
function unsigned(status: StatusCode, message: string): Uint8Array {
  return encodeResponse(status, encoder.encode(message), ZERO_MAC);
}

/** A duration in milliseconds, to a hundredth, for the debug log. */
function ms(duration: number): number {
  return Math.round(duration * 100) / 100;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
