/** The 389-byte datagram: encode, decode and validate every field before anything else sees it. */

import { isCanonicalAddress, isUsername, NAME_FIELD_SIZE, printable } from "./names.ts";

/** Size of every datagram on the wire. */
export const DATAGRAM_SIZE = 389;
/** Size of the arguments field. */
export const ARGUMENTS_SIZE = 256;
/** Size of an HMAC-SHA256 signature. */
export const SIGNATURE_SIZE = 32;
/** Bytes 0..356 are covered by the signature. */
export const SIGNED_SIZE = DATAGRAM_SIZE - SIGNATURE_SIZE;

const COMMAND_AT = 0;
const USERNAME_AT = 1;
const PEER_USERNAME_AT = 33;
const PEER_ADDRESS_AT = 65;
const ARGUMENTS_AT = 97;
const COUNTER_AT = 353;
const SIGNATURE_AT = 357;

/** Commands from 128 up are sent by servers, below by clients. */
export const SERVER_COMMAND_MIN = 128;

/** The bytes could not be a valid datagram; `message` says why, safe to log. */
export class DatagramError extends Error {
  override name = "DatagramError";
}

/** The fields of a datagram before it is signed. */
export interface DatagramFields {
  command: number;
  /** The account on the receiving server. */
  username: string;
  /** Client commands: the peer concerned; server commands: the sending account. "" if none. */
  peerUsername: string;
  /** Canonical server address of the peer (server commands: the sender's). "" if none. */
  peerAddress: string;
  /** Exactly {@linkcode ARGUMENTS_SIZE} bytes. */
  arguments: Uint8Array;
  counter: number;
}

/** A decoded, validated datagram; `bytes` keeps the original for signature checks. */
export interface Datagram extends DatagramFields {
  signature: Uint8Array;
  bytes: Uint8Array;
}

/** Whether a command byte is a server command. */
export function isServerCommand(command: number): boolean {
  return command >= SERVER_COMMAND_MIN;
}

/**
 * Decodes and validates 389 bytes. Throws {@linkcode DatagramError} on a wrong size, a
 * name with forbidden bytes, non-zero padding, or missing peer fields.
 *
 * @example
 * ```ts
 * import { decodeDatagram, encodeDatagram } from "./datagram.ts";
 * const bytes = encodeDatagram({
 *   command: 3, username: "alice", peerUsername: "bob", peerAddress: "127.0.0.3",
 *   arguments: new Uint8Array(256), counter: 1,
 * }, new Uint8Array(32));
 * decodeDatagram(bytes).peerUsername; // "bob"
 * ```
 */
export function decodeDatagram(bytes: Uint8Array): Datagram {
  if (bytes.length !== DATAGRAM_SIZE) {
    throw new DatagramError(`datagram is ${bytes.length} bytes, expected ${DATAGRAM_SIZE}`);
  }
  const command = bytes[COMMAND_AT];
  const username = readName(bytes, USERNAME_AT, "username");
  if (!isUsername(username)) throw new DatagramError(`invalid username "${printable(username)}"`);
  const peerUsername = readName(bytes, PEER_USERNAME_AT, "peer username");
  const peerAddress = readName(bytes, PEER_ADDRESS_AT, "peer server address");
  validatePeer(command, peerUsername, peerAddress);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    command,
    username,
    peerUsername,
    peerAddress,
    arguments: bytes.subarray(ARGUMENTS_AT, COUNTER_AT),
    counter: view.getUint32(COUNTER_AT),
    signature: bytes.subarray(SIGNATURE_AT),
    bytes,
  };
}

function validatePeer(command: number, peerUsername: string, peerAddress: string): void {
  if (peerUsername === "" && peerAddress === "") {
    if (isServerCommand(command)) throw new DatagramError("server command without a sender");
    return;
  }
  if (!isUsername(peerUsername)) {
    throw new DatagramError(`invalid peer username "${printable(peerUsername)}"`);
  }
  if (!isCanonicalAddress(peerAddress)) {
    throw new DatagramError(`invalid peer server address "${printable(peerAddress)}"`);
  }
}

function readName(bytes: Uint8Array, at: number, field: string): string {
  return decodeNameField(bytes.subarray(at, at + NAME_FIELD_SIZE), field);
}

/**
 * Reads a zero-padded printable-ASCII name field (of a datagram or an answer); bytes after
 * the first zero must all be zero. Throws {@linkcode DatagramError} naming `field`.
 */
export function decodeNameField(raw: Uint8Array, field: string): string {
  let end = raw.indexOf(0);
  if (end === -1) end = raw.length;
  for (let i = end; i < raw.length; i++) {
    if (raw[i] !== 0) throw new DatagramError(`${field} has bytes after its end`);
  }
  let text = "";
  for (let i = 0; i < end; i++) {
    if (raw[i] < 0x20 || raw[i] > 0x7e) throw new DatagramError(`${field} has a non-ASCII byte`);
    text += String.fromCharCode(raw[i]);
  }
  return text;
}

/**
 * Lays out a datagram's bytes with the given signature (zeros while it is being signed).
 *
 * @example
 * ```ts
 * import { encodeDatagram } from "./datagram.ts";
 * const bytes = encodeDatagram({
 *   command: 0, username: "alice", peerUsername: "bob", peerAddress: "127.0.0.3",
 *   arguments: new Uint8Array(256), counter: 7,
 * }, new Uint8Array(32));
 * bytes.length; // 389
 * ```
 */
export function encodeDatagram(fields: DatagramFields, signature: Uint8Array): Uint8Array {
  if (fields.arguments.length !== ARGUMENTS_SIZE) {
    throw new DatagramError(`arguments must be ${ARGUMENTS_SIZE} bytes`);
  }
  if (signature.length !== SIGNATURE_SIZE) throw new DatagramError("signature must be 32 bytes");
  const bytes = new Uint8Array(DATAGRAM_SIZE);
  bytes[COMMAND_AT] = fields.command;
  writeName(bytes, USERNAME_AT, fields.username);
  writeName(bytes, PEER_USERNAME_AT, fields.peerUsername);
  writeName(bytes, PEER_ADDRESS_AT, fields.peerAddress);
  bytes.set(fields.arguments, ARGUMENTS_AT);
  new DataView(bytes.buffer).setUint32(COUNTER_AT, fields.counter);
  bytes.set(signature, SIGNATURE_AT);
  return bytes;
}

function writeName(bytes: Uint8Array, at: number, text: string): void {
  if (text.length > NAME_FIELD_SIZE) throw new DatagramError(`"${printable(text)}" is too long`);
  for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i) & 0xff;
}

/** The signed part of an encoded datagram (bytes 0–356). */
export function signedBytes(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(0, SIGNED_SIZE);
}
