/** `POST /datagram`: exactly one client datagram in, read under a deadline, and the node's answer bytes out. */

import { Deadline, withSignal } from "../core/deadline.ts";
import type { Node } from "../server/node.ts";
import type { Slot } from "../server/connection_slots.ts";
import { DATAGRAM_SIZE, isServerCommand } from "../wire/datagram.ts";
import { answer, type Refusal } from "./headers.ts";

/** Path of the datagram endpoint. */
export const DATAGRAM_PATH = "/datagram";
/** The only media type `POST /datagram` accepts, and the type of its answers. */
export const DATAGRAM_TYPE = "application/octet-stream";

/**
 * Handles `POST /datagram`: checks the method, type and size, reads the body within
 * `readTimeoutMs` (while `slot` may be taken back for another request), and hands the 389
 * bytes to the node exactly as the TCP listener does. Returns the node's answer, or why the
 * request never reached it.
 *
 * @example
 * ```ts ignore
 * const result = await datagramEndpoint(request, node, slot, 5_000);
 * ```
 */
export async function datagramEndpoint(
  request: Request,
  node: Node,
  slot: Slot,
  readTimeoutMs: number,
): Promise<Response | Refusal> {
  if (request.method !== "POST") {
    return { status: 405, reason: "datagrams are POSTed", headers: { Allow: "POST" } };
  }
  if (request.headers.get("Content-Type") !== DATAGRAM_TYPE) {
    return { status: 415, reason: `a datagram is sent as ${DATAGRAM_TYPE}` };
  }
  const declared = request.headers.get("Content-Length");
  if (declared !== null && declared !== String(DATAGRAM_SIZE)) {
    return sizeRefusal(/^[0-9]+$/.test(declared) ? Number(declared) : -1);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readBody(request.body, DATAGRAM_SIZE + 1, readTimeoutMs, slot);
  } catch (error) {
    if (error instanceof Deno.errors.TimedOut) {
      return { status: 408, reason: "the datagram did not arrive in time" };
    }
    // Taken back for a request that had waited less: the table has logged it.
    if (slot.signal.aborted) return { status: 503, reason: "evicted", logged: true };
    throw error;
  }
  if (bytes.length !== DATAGRAM_SIZE) return sizeRefusal(bytes.length);
  if (isServerCommand(bytes[0])) {
    return { status: 400, reason: "server datagrams go to the TCP port" };
  }
  slot.serving();
  const response = await node.receive(bytes);
  if (response === null) throw new Error("the node gave no answer to a client datagram");
  return answer(200, response, { "Content-Type": DATAGRAM_TYPE, "Cache-Control": "no-store" });
}

function sizeRefusal(size: number): Refusal {
  return size > DATAGRAM_SIZE
    ? { status: 413, reason: `a datagram is ${DATAGRAM_SIZE} bytes` }
    : { status: 400, reason: `a datagram is ${DATAGRAM_SIZE} bytes, got ${size}` };
}

/**
 * Reads a request body, but never more than `limit` bytes (the caller learns it was too
 * long from the length), never for longer than `timeoutMs`, and only while `slot` is held:
 * a client that sends slowly cannot hold a request open.
 */
async function readBody(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  timeoutMs: number,
  slot: Slot,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array();
  const reader = body.getReader();
  const bytes = new Uint8Array(limit);
  let filled = 0;
  using deadline = new Deadline(timeoutMs);
  const signal = AbortSignal.any([deadline.signal, slot.signal]);
  try {
    while (filled < limit) {
      const { done, value } = await withSignal(reader.read(), signal);
      if (done) break;
      const taken = Math.min(value.length, limit - filled);
      bytes.set(value.subarray(0, taken), filled);
      filled += taken;
      slot.progressed();
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return bytes.subarray(0, filled);
}
