/** Usernames and server addresses: the only strings that ever become paths on disk. */

/** Longest username or server address, in bytes, that fits its datagram field. */
export const NAME_FIELD_SIZE = 32;

/** Port a server address means when it names none. */
export const DEFAULT_PORT = 2012;

/** A username or server address failed validation. */
export class NameError extends Error {
  override name = "NameError";
}

const USERNAME = /^[a-z0-9_-][a-z0-9_.-]{0,31}$/;

/** The rules of {@linkcode isUsername}, in words for messages. */
export const USERNAME_RULES =
  "use 1-32 of a-z 0-9 _ - . (lower case, not starting with a dot, no two dots in a row)";
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * Whether `name` is a valid username: 1–32 of `a-z 0-9 _ - .`, not starting with `.`
 * and never containing `..`.
 *
 * @example
 * ```ts
 * import { isUsername } from "./names.ts";
 * isUsername("alice"); // true
 * isUsername("../etc"); // false
 * ```
 */
export function isUsername(name: string): boolean {
  return USERNAME.test(name) && !name.includes("..");
}

/** A server address split into host and port. */
export interface ServerAddress {
  host: string;
  port: number;
}

/**
 * Parses `host` or `host:port` (a lower-case DNS name or a dotted IPv4 address, at most
 * 32 bytes in all) and throws {@linkcode NameError} on anything else.
 *
 * @example
 * ```ts
 * import { parseServerAddress } from "./names.ts";
 * parseServerAddress("127.0.0.2"); // { host: "127.0.0.2", port: 2012 }
 * parseServerAddress("ripple.example:4000"); // { host: "ripple.example", port: 4000 }
 * ```
 */
export function parseServerAddress(address: string): ServerAddress {
  if (address.length === 0 || address.length > NAME_FIELD_SIZE) {
    throw new NameError(`server address must be 1-${NAME_FIELD_SIZE} bytes`);
  }
  const colon = address.indexOf(":");
  const host = colon === -1 ? address : address.slice(0, colon);
  const portText = colon === -1 ? undefined : address.slice(colon + 1);
  if (!isHost(host)) throw new NameError(`invalid host in server address "${printable(address)}"`);
  if (portText === undefined) return { host, port: DEFAULT_PORT };
  const port = DECIMAL.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new NameError(`invalid port in server address "${printable(address)}"`);
  }
  return { host, port };
}

/**
 * The one spelling of a server address used on disk and on the wire: the default port
 * is left out, so `host:2012` and `host` name the same directory.
 *
 * @example
 * ```ts
 * import { canonicalAddress } from "./names.ts";
 * canonicalAddress("127.0.0.2:2012"); // "127.0.0.2"
 * ```
 */
export function canonicalAddress(address: string): string {
  const { host, port } = parseServerAddress(address);
  return formatServerAddress({ host, port });
}

/** Writes a {@linkcode ServerAddress} in canonical form. */
export function formatServerAddress(address: ServerAddress): string {
  return address.port === DEFAULT_PORT ? address.host : `${address.host}:${address.port}`;
}

/** Whether `address` is already in canonical form; the datagram decoder requires it. */
export function isCanonicalAddress(address: string): boolean {
  try {
    return canonicalAddress(address) === address;
  } catch {
    return false;
  }
}

function isHost(host: string): boolean {
  const labels = host.split(".");
  if (!labels.every((label) => DNS_LABEL.test(label))) return false;
  const numeric = labels.every((label) => /^[0-9]+$/.test(label));
  if (!numeric) return true;
  return labels.length === 4 && labels.every((l) => DECIMAL.test(l) && Number(l) <= 255);
}

/** Makes untrusted text safe to put in a log line or an error message: ASCII, at most `max` characters. */
export function printable(text: string, max = 64): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, max);
}

/** An account anywhere in the network: `username@server_address`. */
export interface AccountRef {
  username: string;
  address: string;
}

/**
 * Parses `name@address` into an {@linkcode AccountRef} with a canonical address.
 *
 * @example
 * ```ts
 * import { parseAccountRef } from "./names.ts";
 * parseAccountRef("bob@127.0.0.3"); // { username: "bob", address: "127.0.0.3" }
 * ```
 */
export function parseAccountRef(text: string): AccountRef {
  const at = text.lastIndexOf("@");
  if (at === -1) throw new NameError(`expected NAME@ADDRESS, got "${printable(text)}"`);
  const username = text.slice(0, at);
  if (!isUsername(username)) {
    throw new NameError(`invalid username "${printable(username)}": ${USERNAME_RULES}`);
  }
  return { username, address: canonicalAddress(text.slice(at + 1)) };
}

/** Whether two account references name the same account; false if either is null. */
export function sameAccount(a: AccountRef | null, b: AccountRef | null): boolean {
  return a !== null && b !== null && a.username === b.username && a.address === b.address;
}

/** Writes an {@linkcode AccountRef} as `name@address`. */
export function formatAccountRef(ref: AccountRef): string {
  return `${ref.username}@${ref.address}`;
}
