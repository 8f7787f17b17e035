/** The answer to a client datagram: `status u8 | length u16 | body | mac`. */

import { DatagramError, SIGNATURE_SIZE } from "./datagram.ts";

/** Status codes of a client answer. */
export const Status = {
  Ok: 0,
  Malformed: 1,
  Unauthorized: 2,
  Replay: 3,
  UnknownPeer: 4,
  Refused: 5,
  Busy: 6,
  InternalError: 7,
} as const;

/** One of the {@linkcode Status} codes. */
export type StatusCode = (typeof Status)[keyof typeof Status];

const STATUS_NAMES = [
  "ok",
  "malformed",
  "unauthorized",
  "replay",
  "unknown peer",
  "refused",
  "busy",
  "internal error",
];

/** The name of a status code, for messages. */
export function statusName(status: number): string {
  return STATUS_NAMES[status] ?? `status ${status}`;
}

/** Largest body a response can carry. */
export const MAX_BODY = 0xffff;
/** Bytes of a response around its body. */
export const RESPONSE_OVERHEAD = 3 + SIGNATURE_SIZE;

/** A decoded client answer. */
export interface Response {
  status: number;
  body: Uint8Array;
  mac: Uint8Array;
}

/**
 * The bytes the response mac covers: the request's signature, then status, length and body.
 *
 * @example
 * ```ts
 * import { responseMacInput } from "./response.ts";
 * responseMacInput(new Uint8Array(32), 0, new Uint8Array()).length; // 35
 * ```
 */
export function responseMacInput(
  requestSignature: Uint8Array,
  status: number,
  body: Uint8Array,
): Uint8Array {
  const input = new Uint8Array(SIGNATURE_SIZE + 3 + body.length);
  input.set(requestSignature, 0);
  writeHeader(input, SIGNATURE_SIZE, status, body.length);
  input.set(body, SIGNATURE_SIZE + 3);
  return input;
}

/** Lays out a response; `mac` is 32 zero bytes when the request could not be authenticated. */
export function encodeResponse(status: number, body: Uint8Array, mac: Uint8Array): Uint8Array {
  if (body.length > MAX_BODY) throw new DatagramError("response body too long");
  const bytes = new Uint8Array(RESPONSE_OVERHEAD + body.length);
  writeHeader(bytes, 0, status, body.length);
  bytes.set(body, 3);
  bytes.set(mac, 3 + body.length);
  return bytes;
}

function writeHeader(bytes: Uint8Array, at: number, status: number, length: number): void {
  bytes[at] = status;
  bytes[at + 1] = length >> 8;
  bytes[at + 2] = length & 0xff;
}

/**
 * The length of a response whose first three bytes are `header`, so a reader knows when
 * it has all of it.
 */
export function responseLength(header: Uint8Array): number {
  return RESPONSE_OVERHEAD + ((header[1] << 8) | header[2]);
}

/** Decodes a whole response; throws {@linkcode DatagramError} if the length does not add up. */
export function decodeResponse(bytes: Uint8Array): Response {
  if (bytes.length < RESPONSE_OVERHEAD || bytes.length !== responseLength(bytes)) {
    throw new DatagramError(`response of ${bytes.length} bytes does not match its length field`);
  }
  const end = bytes.length - SIGNATURE_SIZE;
  return { status: bytes[0], body: bytes.slice(3, end), mac: bytes.slice(end) };
}
