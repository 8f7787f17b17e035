/** Amounts as the wallet shows and reads them; every amount on the page passes through these two functions. */

/** Text that is not an amount the wallet can send; the message says what is expected. */
export class AmountError extends Error {
  override name = "AmountError";
}

const MAX_U64 = (1n << 64n) - 1n;

/**
 * An amount for people to read.
 *
 * @example
 * ```ts
 * import { formatAmount } from "./amounts.ts";
 * formatAmount(25n); // "25"
 * ```
 */
export function formatAmount(amount: bigint): string {
  return amount.toString();
}

/**
 * Reads an amount typed into a form: a whole number, at least `min`.
 *
 * @example
 * ```ts
 * import { parseAmount } from "./amounts.ts";
 * parseAmount(" 25 ", 1n); // 25n
 * ```
 */
export function parseAmount(text: string, min: bigint): bigint {
  const trimmed = text.trim();
  if (!/^[0-9]+$/.test(trimmed) || BigInt(trimmed) > MAX_U64 || BigInt(trimmed) < min) {
    throw new AmountError(`an amount is a whole number from ${min} to ${MAX_U64}`);
  }
  return BigInt(trimmed);
}
