/**
 * Datagrams built byte by byte from the documented offsets, and raw TCP exchanges, for
 * tests that send what no correct client would.
 */

import { Deadline, withSignal, writeAll } from "../../src/core/deadline.ts";
import { parseServerAddress } from "../../src/wire/names.ts";

/** The fields of {@linkcode rawDatagram}; names are written as given, valid or not. */
export interface RawFields {
  command: number;
  username: string;
  peerUsername?: string;
  peerAddress?: string;
  /** Up to 256 bytes, zero-padded. */
  args?: Uint8Array;
  counter: number;
}

const encoder = new TextEncoder();

/**
 * The 389 bytes of the design's table: command at 0, username at 1, peer username at 33,
 * peer server address at 65, arguments at 97, counter (u32 BE) at 353, and at 357 the
 * HMAC-SHA256 of bytes 0–356 under `key`. Written independently of src/wire, so a test
 * can put anything in a name.
 *
 * @example
 * ```ts ignore
 * const bytes = await rawDatagram({ command: 3, username: "../etc", counter: 1 }, key);
 * ```
 */
export async function rawDatagram(fields: RawFields, key: Uint8Array): Promise<Uint8Array> {
  const bytes = new Uint8Array(389);
  bytes[0] = fields.command;
  bytes.set(encoder.encode(fields.username), 1);
  bytes.set(encoder.encode(fields.peerUsername ?? ""), 33);
  bytes.set(encoder.encode(fields.peerAddress ?? ""), 65);
  bytes.set(fields.args ?? new Uint8Array(), 97);
  new DataView(bytes.buffer).setUint32(353, fields.counter);
  bytes.set(await hmac(key, bytes.subarray(0, 357)), 357);
  return bytes;
}

/** HMAC-SHA256 of `data` under `key`, straight from WebCrypto. */
export async function hmac(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    key as BufferSource,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, data as BufferSource));
}

/** What came back on a raw connection before the server closed it. */
export interface RawReply {
  bytes: Uint8Array;
  /** From the write (or the connect, when nothing is written) to the server's close. */
  elapsedMs: number;
}

/**
 * Connects to `address`, writes `bytes`, optionally half-closes, and reads until the
 * server closes; throws if it has not closed within `timeoutMs`.
 */
export async function sendRaw(
  address: string,
  bytes: Uint8Array,
  options: { halfClose?: boolean; timeoutMs?: number } = {},
): Promise<RawReply> {
  const { host, port } = parseServerAddress(address);
  using deadline = new Deadline(options.timeoutMs ?? 5_000);
  using conn = await Deno.connect({ hostname: host, port });
  const started = performance.now();
  await writeAll(conn, bytes, deadline.signal);
  if (options.halfClose) await conn.closeWrite();
  const chunks: number[] = [];
  const buffer = new Uint8Array(1024);
  for (;;) {
    const n = await withSignal(conn.read(buffer), deadline.signal);
    if (n === null) break;
    chunks.push(...buffer.subarray(0, n));
  }
  return { bytes: new Uint8Array(chunks), elapsedMs: performance.now() - started };
}

/** A client answer taken apart by the design's layout: `status | length u16 | body | mac`. */
export interface RawAnswer {
  status: number;
  body: Uint8Array;
  mac: Uint8Array;
}

/** Splits a client answer; throws if its length field does not match its size. */
export function splitAnswer(bytes: Uint8Array): RawAnswer {
  const length = bytes.length >= 3 ? (bytes[1] << 8) | bytes[2] : -1;
  if (bytes.length !== 3 + length + 32) {
    throw new Error(`an answer of ${bytes.length} bytes with length field ${length}`);
  }
  return { status: bytes[0], body: bytes.slice(3, 3 + length), mac: bytes.slice(3 + length) };
}

/** The mac a server must put on `answer` to the request signed `requestSignature`. */
export function answerMac(
  key: Uint8Array,
  requestSignature: Uint8Array,
  answer: RawAnswer,
): Promise<Uint8Array> {
  const input = new Uint8Array(32 + 3 + answer.body.length);
  input.set(requestSignature);
  input.set([answer.status, answer.body.length >> 8, answer.body.length & 0xff], 32);
  input.set(answer.body, 35);
  return hmac(key, input);
}
