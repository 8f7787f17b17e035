/** The client's exchange over TCP: connect, write one datagram, read the whole answer. */

import { Deadline, readUpTo, writeAll } from "../core/deadline.ts";
import { parseServerAddress } from "../wire/names.ts";
import { responseLength } from "../wire/response.ts";
import type { Exchange } from "./client.ts";

/**
 * The TCP exchange: connect, write the datagram, read the whole answer, all within
 * `timeoutMs`.
 */
export function tcpExchange(timeoutMs: number): Exchange {
  return async (address, request) => {
    const { host, port } = parseServerAddress(address);
    using deadline = new Deadline(timeoutMs);
    using conn = await Deno.connect({ hostname: host, port, signal: deadline.signal });
    await writeAll(conn, request, deadline.signal);
    const header = await readUpTo(conn, 3, deadline.signal);
    if (header.length < 3) {
      throw new Deno.errors.UnexpectedEof("the server closed without an answer");
    }
    const rest = await readUpTo(conn, responseLength(header) - 3, deadline.signal);
    const response = new Uint8Array(header.length + rest.length);
    response.set(header);
    response.set(rest, header.length);
    return response;
  };
}
