/** The TCP side of a server: accept, read one datagram under a deadline, answer clients, close. */

import { Deadline, readUpTo, writeAll } from "../core/deadline.ts";
import type { Logger } from "../core/log.ts";
import { DATAGRAM_SIZE, isServerCommand } from "../wire/datagram.ts";
import type { Node } from "./node.ts";

/** Where and how a {@linkcode Listener} accepts connections. */
export interface ListenOptions {
  hostname: string;
  port: number;
  /** A connection must deliver its datagram within this time. */
  readTimeoutMs: number;
  /** Connections handled at once; further ones wait in the kernel's backlog. */
  maxConnections: number;
  logger: Logger;
}

/**
 * A running TCP listener feeding a {@linkcode Node}. Client connections get their answer
 * and are closed; server connections are closed as soon as the datagram is read and in
 * its account's queue. The listener always closes first.
 *
 * @example
 * ```ts ignore
 * const listener = Listener.start(node, { hostname: "127.0.0.2", port: 2012, readTimeoutMs: 5000, maxConnections: 512, logger });
 * await listener.shutdown();
 * ```
 */
export class Listener {
  readonly addr: Deno.NetAddr;
  /** Resolves when the listener is closed and every connection it accepted is done. */
  readonly finished: Promise<void>;
  #listener: Deno.TcpListener;
  #connections = new Set<Promise<void>>();

  private constructor(node: Node, options: ListenOptions) {
    this.#listener = Deno.listen({ hostname: options.hostname, port: options.port });
    this.addr = this.#listener.addr;
    this.finished = this.#acceptLoop(node, options);
  }

  /** Binds and starts accepting; throws if the address cannot be bound. */
  static start(node: Node, options: ListenOptions): Listener {
    return new Listener(node, options);
  }

  /** Stops accepting, then waits for the connections in hand. */
  async shutdown(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    await this.finished;
  }

  async #acceptLoop(node: Node, options: ListenOptions): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        while (this.#connections.size >= options.maxConnections) {
          await Promise.race(this.#connections);
        }
        const handled = handleConnection(node, conn, options).finally(() =>
          this.#connections.delete(handled)
        );
        this.#connections.add(handled);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    } finally {
      await Promise.allSettled([...this.#connections]);
    }
  }
}

async function handleConnection(
  node: Node,
  conn: Deno.TcpConn,
  options: ListenOptions,
): Promise<void> {
  const remote = `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`;
  try {
    let bytes: Uint8Array;
    {
      using deadline = new Deadline(options.readTimeoutMs);
      bytes = await readUpTo(conn, DATAGRAM_SIZE, deadline.signal);
    }
    if (bytes.length === 0) {
      options.logger.debug("connection-empty", { remote });
      return;
    }
    const answer = node.receive(bytes);
    if (isServerCommand(bytes[0])) return;
    const response = await answer;
    if (response === null) return;
    using deadline = new Deadline(options.readTimeoutMs);
    await writeAll(conn, response, deadline.signal);
  } catch (error) {
    const timedOut = error instanceof Deno.errors.TimedOut;
    options.logger.warn(timedOut ? "connection-timed-out" : "connection-failed", {
      remote,
      error: timedOut ? undefined : error instanceof Error ? error.message : String(error),
    });
  } finally {
    conn.close();
  }
}
