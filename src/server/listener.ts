/** The TCP side of a server: accept, read one datagram under a deadline, answer clients, close. */

import { setImmediate } from "node:timers";
import { Deadlines, readUpTo, writeAll } from "../core/deadline.ts";
import type { Logger } from "../core/log.ts";
import { ThrottledLog } from "../core/throttled_log.ts";
import { DATAGRAM_SIZE, isServerCommand } from "../wire/datagram.ts";
import { isOutOfFiles } from "../store/fs.ts";
import { ConnectionSlots, EvictedError, type Slot } from "./connection_slots.ts";
import type { Node } from "./node.ts";

/** After a failed accept that closing an idle connection cannot help, wait this long. */
const ACCEPT_PAUSE_MS = 50;

/** Where and how a {@linkcode Listener} accepts connections. */
export interface ListenOptions {
  hostname: string;
  port: number;
  /** A connection must deliver its datagram within this time, and take its answer within it. */
  readTimeoutMs: number;
  /** Connections in hand at once (see {@linkcode ConnectionSlots}). */
  maxConnections: number;
  /** Connections in hand at once from one source address. */
  maxConnectionsPerSource: number;
  logger: Logger;
}

/**
 * A running TCP listener feeding a {@linkcode Node}. Client connections get their answer
 * and are closed; server connections are closed as soon as the datagram is read and in
 * its account's queue. The listener always closes first. Connections are admitted by a
 * {@linkcode ConnectionSlots} table, so the accept loop never waits for a slot: a
 * connection past a cap takes the slot of the longest-idle one, or is closed at once.
 *
 * @example
 * ```ts ignore
 * const listener = Listener.start(node, {
 *   hostname: "127.0.0.2", port: 2012, readTimeoutMs: 5000,
 *   maxConnections: 512, maxConnectionsPerSource: 64, logger,
 * });
 * await listener.shutdown();
 * ```
 */
export class Listener {
  readonly addr: Deno.NetAddr;
  /** Resolves when the listener is closed and every connection it accepted is done. */
  readonly finished: Promise<void>;
  #listener: Deno.TcpListener;
  #closing = new AbortController();
  #slots: ConnectionSlots;
  #connections = new Set<Promise<void>>();

  private constructor(node: Node, options: ListenOptions) {
    this.#listener = Deno.listen({ hostname: options.hostname, port: options.port });
    this.addr = this.#listener.addr;
    this.#slots = new ConnectionSlots({
      maxConnections: options.maxConnections,
      maxPerSource: options.maxConnectionsPerSource,
      logger: options.logger,
      listener: "tcp",
    });
    this.finished = this.#run(node, options);
  }

  /** Binds and starts accepting; throws if the address cannot be bound. */
  static start(node: Node, options: ListenOptions): Listener {
    return new Listener(node, options);
  }

  /** The process is out of file descriptors: hold fewer connections (see {@linkcode ConnectionSlots.outOfFiles}). */
  outOfFiles(): void {
    this.#slots.outOfFiles();
  }

  /**
   * Stops accepting, closes the connections still waiting for their datagram (nothing of
   * theirs was received, so their senders try again), and waits for the ones being served.
   */
  async shutdown(): Promise<void> {
    this.#closing.abort();
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    await this.finished;
  }

  async #run(node: Node, options: ListenOptions): Promise<void> {
    // Events any stranger can cause once per connection: a line per source and second.
    using floods = new ThrottledLog({ logger: options.logger });
    // One timer for the deadlines of every connection, not one per connection.
    using deadlines = new Deadlines(options.readTimeoutMs);
    try {
      await this.#acceptLoop(node, options, { floods, deadlines });
    } finally {
      const waiting = this.#slots.closeWaiting();
      if (this.#connections.size > 0) {
        options.logger.info("connections-closing", {
          waiting,
          serving: this.#connections.size - waiting,
        });
      }
      await Promise.allSettled([...this.#connections]);
      this.#slots[Symbol.dispose]();
    }
  }

  async #acceptLoop(node: Node, options: ListenOptions, shared: Shared): Promise<void> {
    while (!this.#closing.signal.aborted) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closing.signal.aborted) return;
        shared.floods.warn("accept-failed", "accept", { error: describe(error) });
        // Out of file descriptors: closing idle connections gives some back, once their
        // handlers have run; otherwise the error may last, so wait a little.
        const freed = isOutOfFiles(error) && this.#slots.outOfFiles();
        await pause(freed ? 0 : ACCEPT_PAUSE_MS, this.#closing.signal);
        continue;
      }
      // While connections queue up, each accept completes at once and the loop would run
      // on without letting the reads of the connections it admitted complete: a client's
      // request would sit unread for hundreds of accepts and its connection look idle.
      await new Promise((resolve) => setImmediate(resolve));
      const slot = this.#slots.admit(conn.remoteAddr);
      if (slot === null) {
        conn.close();
        continue;
      }
      const handled = serveConnection(node, conn, slot, options, shared).finally(() =>
        this.#connections.delete(handled)
      );
      this.#connections.add(handled);
    }
  }
}

/** What every connection of a listener shares: its throttled log and its deadlines. */
interface Shared {
  floods: ThrottledLog;
  deadlines: Deadlines;
}

async function serveConnection(
  node: Node,
  conn: Deno.TcpConn,
  slot: Slot,
  options: ListenOptions,
  { floods, deadlines }: Shared,
): Promise<void> {
  const remote = () => `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`;
  let phase = "read";
  try {
    let bytes: Uint8Array;
    {
      using deadline = deadlines.start(slot.signal);
      bytes = await readUpTo(conn, DATAGRAM_SIZE, deadline.signal, () => slot.progressed());
    }
    if (bytes.length === 0) {
      options.logger.debug("connection-empty", () => ({ remote: remote() }));
      return;
    }
    slot.serving();
    const answer = node.receive(bytes);
    if (isServerCommand(bytes[0])) return;
    const response = await answer;
    if (response === null) return;
    phase = "write";
    using deadline = deadlines.start();
    await writeAll(conn, response, deadline.signal);
  } catch (error) {
    // An eviction is logged by the slots table, once per source and second.
    if (error instanceof EvictedError) return;
    const timedOut = error instanceof Deno.errors.TimedOut;
    floods.warn(timedOut ? "connection-timed-out" : "connection-failed", slot.source, {
      source: slot.source,
      remote: remote(),
      phase,
      error: timedOut ? undefined : describe(error),
    });
  } finally {
    slot[Symbol.dispose]();
    conn.close();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
