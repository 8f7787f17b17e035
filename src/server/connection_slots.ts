/** Slots for the connections a server holds: capped per source address and in all; the longest-idle waiting one makes room. */

import { type Clock, systemClock } from "../core/clock.ts";
import type { Logger } from "../core/log.ts";
import { ThrottledLog } from "../core/throttled_log.ts";

/** Descriptors kept free for the files requests open, when running out lowers the cap: at least this many. */
const MIN_FILE_HEADROOM = 16;
/** The cap is lowered at most this often: evicted connections give their descriptors back only once closed. */
const CAP_INTERVAL_MS = 1_000;

/** Why a table took a slot back from its connection. */
export type EvictionReason = "source-full" | "server-full" | "out-of-files" | "shutdown";

/** The reason a {@linkcode Slot.signal} aborts with: the holder closes its connection. */
export class EvictedError extends Error {
  override name = "EvictedError";
  readonly reason: EvictionReason;

  constructor(reason: EvictionReason) {
    super(`connection closed to make room (${reason})`);
    this.reason = reason;
  }
}

/** The limits of a {@linkcode ConnectionSlots} table, and where it logs. */
export interface ConnectionSlotsOptions {
  /** Connections in hand at once, from all sources together. */
  maxConnections: number;
  /** Connections in hand at once from one source (see {@linkcode sourceOf}). */
  maxPerSource: number;
  logger: Logger;
  /** Names the listener in every log line (`listener=tcp`), to tell two tables apart. */
  listener: string;
  /** Times idleness and the log's summary lines; tests pass a fake one. */
  clock?: Clock;
}

/**
 * One connection's place in a {@linkcode ConnectionSlots} table, from
 * {@linkcode ConnectionSlots.admit} until it is disposed. A slot is _waiting_ (for bytes
 * of a request: it may be evicted) or _serving_ (a whole request is in hand: it is never
 * evicted). It starts waiting.
 */
export interface Slot extends Disposable {
  /** The source it counts against ({@linkcode sourceOf} the remote hostname). */
  readonly source: string;
  /** Aborts with an {@linkcode EvictedError} when the table takes the slot back. */
  readonly signal: AbortSignal;
  /** Some bytes arrived: the connection's idle time starts again from now. */
  progressed(): void;
  /** A whole request is in hand and being served: not evictable until {@linkcode waiting}. */
  serving(): void;
  /** Served, and waiting for another request on the same connection (keep-alive). */
  waiting(): void;
}

/**
 * The source address a connection counts against: an IPv4 address as it is, an IPv6
 * address by its /64 prefix (what one host or one customer line is usually given, so one
 * host cannot take a new source per connection), an IPv4-mapped IPv6 address as IPv4.
 *
 * @example
 * ```ts
 * import { sourceOf } from "./connection_slots.ts";
 * sourceOf("192.0.2.7"); // "192.0.2.7"
 * sourceOf("2001:db8:0:1:aa:bb:cc:dd"); // "2001:db8:0:1::/64"
 * sourceOf("::ffff:192.0.2.7"); // "192.0.2.7"
 * ```
 */
export function sourceOf(hostname: string): string {
  const host = hostname.replace(/^\[|\]$/g, "").replace(/%.*$/, "").toLowerCase();
  if (!host.includes(":")) return host;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
  if (mapped) return mapped[1];
  const [head, tail] = host.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined
    ? left
    : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  const prefix = groups.slice(0, 4).map((group) => parseInt(group, 16));
  if (prefix.length < 4 || prefix.some((group) => !(group >= 0 && group <= 0xffff))) return host;
  return `${prefix.map((group) => group.toString(16)).join(":")}::/64`;
}

/** The slots of one source: how many, and its waiting ones, longest idle first. */
interface SourceSlots {
  count: number;
  waiting: Set<TableSlot>;
}

/**
 * Bookkeeping of the connections a server holds, for any listener (the TCP listener of
 * datagrams, an HTTP endpoint). At most `maxPerSource` from one source address and
 * `maxConnections` in all. A new connection that would pass a cap takes the slot of the
 * waiting connection idle longest in that scope (its own source when the source is full,
 * else everyone): idle since its last byte arrived, or since it was admitted if nothing
 * did. If every slot in the scope is serving, the new connection is refused. Every
 * eviction and refusal is logged with the source address (through a
 * {@linkcode ThrottledLog}, so a flood costs a line per source per second).
 *
 * The table never touches a socket: the holder of a slot closes its connection when the
 * slot's signal aborts, and disposes of the slot when it is done with the connection.
 *
 * @example
 * ```ts
 * import { ConnectionSlots } from "./connection_slots.ts";
 * import { silentLogger } from "../core/log.ts";
 * using slots = new ConnectionSlots({
 *   maxConnections: 512,
 *   maxPerSource: 1,
 *   logger: silentLogger,
 *   listener: "http",
 * });
 * const first = slots.admit({ hostname: "192.0.2.7" })!;
 * const second = slots.admit({ hostname: "192.0.2.7" })!; // the source was full: first is evicted
 * first.signal.aborted; // true: its holder closes that connection
 * second.serving(); // a request arrived: this one is kept until it is disposed
 * slots.admit({ hostname: "192.0.2.7" }); // null: refused, nothing of that source is idle
 * second[Symbol.dispose]();
 * ```
 */
export class ConnectionSlots implements Disposable {
  #options: ConnectionSlotsOptions;
  #clock: Clock;
  #log: ThrottledLog;
  /** Every waiting slot, longest idle first (a Set keeps insertion order). */
  #waiting = new Set<TableSlot>();
  #sources = new Map<string, SourceSlots>();
  #size = 0;
  /** A cap below `maxConnections` learnt from running out of file descriptors. */
  #ceiling = Infinity;
  #cappedAt = -Infinity;

  constructor(options: ConnectionSlotsOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = new ThrottledLog({ logger: options.logger, clock: this.#clock });
  }

  /** Connections in hand. */
  get size(): number {
    return this.#size;
  }

  /** The cap on connections in hand in force: `maxConnections`, or lower after {@linkcode outOfFiles}. */
  get maxConnections(): number {
    return Math.min(this.#options.maxConnections, this.#ceiling);
  }

  /** Connections in hand from the source of `hostname`. */
  countOf(hostname: string): number {
    return this.#sources.get(sourceOf(hostname))?.count ?? 0;
  }

  /**
   * A slot for a new connection from `remote`, making room if a cap is reached; null if
   * refused (logged), in which case the caller closes the connection at once.
   */
  admit(remote: { hostname: string }): Slot | null {
    const source = sourceOf(remote.hostname);
    const own = this.#sources.get(source);
    const sourceFull = own !== undefined && own.count >= this.#options.maxPerSource;
    if (sourceFull || this.#size >= this.maxConnections) {
      // A full source makes room among its own connections only.
      const reason = sourceFull ? "source-full" : "server-full";
      if (!this.#evictIdlest(sourceFull ? own.waiting : this.#waiting, reason)) {
        return this.#refuse(source, reason);
      }
    }
    // Looked up again: the eviction may have removed the source's last connection.
    let slots = this.#sources.get(source);
    if (slots === undefined) {
      slots = { count: 0, waiting: new Set() };
      this.#sources.set(source, slots);
    }
    const slot = new TableSlot(source, this.#clock.now(), {
      progressed: (s) => this.#touch(s),
      serving: (s) => this.#unwait(s),
      waiting: (s) => this.#touch(s),
      release: (s) => this.#release(s),
    });
    slots.count++;
    this.#size++;
    this.#wait(slot);
    return slot;
  }

  /**
   * The process ran out of file descriptors (EMFILE, ENFILE) with these connections in hand:
   * from now on the table holds at most as many less a headroom (a quarter of them, at least
   * {@linkcode MIN_FILE_HEADROOM}) for the files that requests open, and evicts the idlest
   * waiting connections down to that; it evicts one in any case, to give a descriptor back.
   * The cap is lowered at most once per {@linkcode CAP_INTERVAL_MS}, and never raised again:
   * the open-files limit does not change while a process runs. False if nothing was evicted.
   */
  outOfFiles(): boolean {
    const now = this.#clock.now();
    const ceiling = Math.max(
      1,
      this.#size - Math.max(MIN_FILE_HEADROOM, Math.floor(this.#size / 4)),
    );
    if (now - this.#cappedAt >= CAP_INTERVAL_MS && ceiling < this.maxConnections) {
      this.#ceiling = ceiling;
      this.#cappedAt = now;
      this.#options.logger.warn("connections-capped", {
        listener: this.#options.listener,
        max_connections: ceiling,
        configured: this.#options.maxConnections,
        reason: "out-of-files",
        hint: "raise the open-files limit (ulimit -n, LimitNOFILE=)",
      });
    }
    let evicted = this.#evictIdlest(this.#waiting, "out-of-files");
    while (this.#size > this.maxConnections && this.#evictIdlest(this.#waiting, "out-of-files")) {
      evicted = true;
    }
    return evicted;
  }

  /** Evicts every waiting connection (shutdown), without a line each; returns how many. */
  closeWaiting(): number {
    const waiting = [...this.#waiting];
    for (const slot of waiting) this.#evict(slot, "shutdown");
    return waiting.length;
  }

  /** Writes the log lines still being counted and stops their timer. */
  [Symbol.dispose](): void {
    this.#log[Symbol.dispose]();
  }

  #evictIdlest(candidates: Set<TableSlot>, reason: EvictionReason): boolean {
    const idlest = candidates.values().next();
    if (idlest.done) return false;
    const slot = idlest.value;
    this.#log.warn("connection-evicted", slot.source, {
      listener: this.#options.listener,
      source: slot.source,
      reason,
      idleMs: this.#clock.now() - slot.lastActivity,
    });
    this.#evict(slot, reason);
    return true;
  }

  #refuse(source: string, reason: EvictionReason): null {
    this.#log.warn("connection-refused", source, {
      listener: this.#options.listener,
      source,
      reason,
      inHand: this.#size,
    });
    return null;
  }

  #evict(slot: TableSlot, reason: EvictionReason): void {
    this.#release(slot);
    slot.abort(new EvictedError(reason));
  }

  #wait(slot: TableSlot): void {
    slot.lastActivity = this.#clock.now();
    this.#waiting.add(slot);
    this.#sources.get(slot.source)!.waiting.add(slot);
  }

  #unwait(slot: TableSlot): void {
    this.#waiting.delete(slot);
    this.#sources.get(slot.source)?.waiting.delete(slot);
  }

  /** Moves a slot to the end of the idle order (Sets keep insertion order). */
  #touch(slot: TableSlot): void {
    this.#unwait(slot);
    this.#wait(slot);
  }

  #release(slot: TableSlot): void {
    this.#unwait(slot);
    const slots = this.#sources.get(slot.source)!;
    slots.count--;
    this.#size--;
    if (slots.count === 0) this.#sources.delete(slot.source);
  }
}

/** What a slot asks of its table when its holder reports a change. */
interface SlotHooks {
  progressed(slot: TableSlot): void;
  serving(slot: TableSlot): void;
  waiting(slot: TableSlot): void;
  release(slot: TableSlot): void;
}

class TableSlot implements Slot {
  readonly source: string;
  lastActivity: number;
  #hooks: SlotHooks;
  #controller = new AbortController();
  #state: "waiting" | "serving" | "gone" = "waiting";

  constructor(source: string, now: number, hooks: SlotHooks) {
    this.source = source;
    this.lastActivity = now;
    this.#hooks = hooks;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  progressed(): void {
    if (this.#state === "waiting") this.#hooks.progressed(this);
  }

  serving(): void {
    if (this.#state !== "waiting") return;
    this.#state = "serving";
    this.#hooks.serving(this);
  }

  waiting(): void {
    if (this.#state !== "serving") return;
    this.#state = "waiting";
    this.#hooks.waiting(this);
  }

  /** Called by the table, which has already forgotten the slot. */
  abort(reason: EvictedError): void {
    this.#state = "gone";
    this.#controller.abort(reason);
  }

  [Symbol.dispose](): void {
    if (this.#state === "gone") return;
    this.#state = "gone";
    this.#hooks.release(this);
  }
}
