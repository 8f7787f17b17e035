/** Secret keys: 32 random bytes, stored as 64 lower-case hex characters. */

/** Bytes in a secret key. */
export const KEY_SIZE = 32;

/** A key file or key argument is not 64 lower-case hex characters. */
export class KeyError extends Error {
  override name = "KeyError";
}

/**
 * A new random key from the system's cryptographic random source.
 *
 * @example
 * ```ts
 * import { generateKey } from "./keys.ts";
 * generateKey().length; // 32
 * ```
 */
export function generateKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(KEY_SIZE));
}

/**
 * Parses a key from hex text; surrounding white space (a trailing newline) is allowed.
 *
 * @example
 * ```ts
 * import { parseKey } from "./keys.ts";
 * parseKey("00".repeat(32) + "\n").length; // 32
 * ```
 */
export function parseKey(text: string): Uint8Array {
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new KeyError("a key is 64 lower-case hex characters");
  return fromHex(hex);
}

/** Writes bytes as lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** Reads lower-case or upper-case hex of even length; throws {@linkcode KeyError} otherwise. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new KeyError("not hex");
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
