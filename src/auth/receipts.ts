/**
 * The seller's receipt (docs/protocol.md §6): a payment id made as the SHA-256 of a secret
 * only the seller's client and server know, revealed in _committed_ once the seller holds the
 * commit, so that an account demanding it believes no downstream that says committed without
 * it.
 *
 * SHA-256 here is node:crypto's, computed before the call returns: one hash per committed
 * or claim, and a simulated run must not depend on a thread pool's timing (as WebCrypto's
 * digest would make it).
 */

import { createHash } from "node:crypto";

const ZERO = new Uint8Array(32);

/** Whether `secret` is given (not the all-zero field of a message that carries none). */
export function hasSecret(secret: Uint8Array | null | undefined): secret is Uint8Array {
  return secret != null && secret.some((byte) => byte !== 0);
}

/** The payment id a receipt secret makes: its SHA-256. */
export function receiptId(secret: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(secret).digest());
}

/**
 * Whether `secret` is the receipt of payment `id`: given, and its SHA-256 is the id.
 *
 * @example
 * ```ts
 * import { proves, receiptId } from "./receipts.ts";
 * const secret = crypto.getRandomValues(new Uint8Array(32));
 * proves(secret, receiptId(secret)); // true
 * ```
 */
export function proves(secret: Uint8Array | null | undefined, id: Uint8Array): boolean {
  if (!hasSecret(secret)) return false;
  const hash = receiptId(secret);
  let same = hash.length === id.length;
  for (let i = 0; i < hash.length && same; i++) same = hash[i] === id[i];
  return same;
}

/** A new receipt secret and the payment id it makes, for a seller's client. */
export function newReceipt(): { secret: Uint8Array; id: Uint8Array } {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  return { secret, id: receiptId(secret) };
}

/** The secret field of a message: the secret, or zeros when none is known. */
export function secretField(secret: Uint8Array | null): Uint8Array {
  return secret ?? ZERO;
}
