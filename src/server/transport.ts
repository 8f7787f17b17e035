/** Delivering one server datagram to another server: connect, write, wait for the close. */

import { Deadline, withSignal, writeAll } from "../core/deadline.ts";
import { parseServerAddress } from "../wire/names.ts";

/** Sends one-way server datagrams. The simulator supplies a fake network instead of TCP. */
export interface Transport {
  /** Resolves once the receiving server has taken the datagram; throws if it could not. */
  send(address: string, datagram: Uint8Array): Promise<void>;
}

/**
 * Server datagrams over TCP: one connection per datagram. Waiting for the receiver to
 * close means the next datagram to the same peer is not read before this one, which
 * keeps counters in order; the receiver closes first, so TIME_WAIT stays on its side.
 *
 * @example
 * ```ts ignore
 * import { TcpTransport } from "./transport.ts";
 * await new TcpTransport({ timeoutMs: 5000 }).send("127.0.0.3", new Uint8Array(389));
 * ```
 */
export class TcpTransport implements Transport {
  #timeoutMs: number;

  constructor(options: { timeoutMs: number }) {
    this.#timeoutMs = options.timeoutMs;
  }

  async send(address: string, datagram: Uint8Array): Promise<void> {
    const { host, port } = parseServerAddress(address);
    using deadline = new Deadline(this.#timeoutMs);
    using conn = await Deno.connect({ hostname: host, port, signal: deadline.signal });
    await writeAll(conn, datagram, deadline.signal);
    const sink = new Uint8Array(64);
    while ((await withSignal(conn.read(sink), deadline.signal)) !== null) {
      // A server never answers a server datagram; anything it sends is ignored until it closes.
    }
  }
}
