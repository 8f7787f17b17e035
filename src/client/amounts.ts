/**
 * Amounts as people read and write them, in a server's display unit: pure functions with no
 * Deno API, shared by the command line and the web wallet. The wire keeps integers.
 */

import type { DisplayUnit } from "../core/config.ts";

export type { DisplayUnit } from "../core/config.ts";

/** Text that is not an amount in the server's display unit; the message says what is. */
export class AmountError extends Error {
  override name = "AmountError";
}

/** The largest amount the wire carries (u64), in the smallest unit. */
export const MAX_AMOUNT = (1n << 64n) - 1n;

const LONGEST = 40;

/**
 * An integer amount as a decimal number with `decimals` places, without the unit (what
 * `--json` prints). Negative amounts (balances) keep their sign.
 *
 * @example
 * ```ts
 * import { formatDecimal } from "./amounts.ts";
 * formatDecimal(2550n, 2); // "25.50"
 * formatDecimal(-5n, 2); // "-0.05"
 * formatDecimal(25n, 0); // "25"
 * ```
 */
export function formatDecimal(amount: bigint, decimals: number): string {
  const sign = amount < 0n ? "-" : "";
  const digits = (amount < 0n ? -amount : amount).toString();
  if (decimals === 0) return sign + digits;
  const padded = digits.padStart(decimals + 1, "0");
  return `${sign}${padded.slice(0, -decimals)}.${padded.slice(-decimals)}`;
}

/**
 * An integer amount as people read it: the decimal number, then the unit if there is one.
 *
 * @example
 * ```ts
 * import { formatAmount } from "./amounts.ts";
 * formatAmount(2550n, { unit: "hours", decimals: 2 }); // "25.50 hours"
 * formatAmount(25n, { unit: "", decimals: 0 }); // "25"
 * ```
 */
export function formatAmount(amount: bigint, display: DisplayUnit): string {
  const number = formatDecimal(amount, display.decimals);
  return display.unit === "" ? number : `${number} ${display.unit}`;
}

/**
 * Reads an amount a person wrote (`25`, `25.5`, `25.50`) into the integer the wire carries.
 * Throws {@linkcode AmountError} on a negative number, anything that is not a number, more
 * decimal places than the server uses, or more than {@linkcode MAX_AMOUNT}.
 *
 * @example
 * ```ts
 * import { parseAmount } from "./amounts.ts";
 * parseAmount("25.5", { unit: "hours", decimals: 2 }); // 2550n
 * parseAmount("25", { unit: "", decimals: 0 }); // 25n
 * ```
 */
export function parseAmount(text: string, display: DisplayUnit): bigint {
  const trimmed = text.trim();
  const shown = trimmed.length > LONGEST ? `${trimmed.slice(0, LONGEST)}…` : trimmed;
  if (trimmed.startsWith("-")) {
    throw new AmountError(`an amount cannot be negative, got "${shown}"`);
  }
  const match = /^([0-9]+)(?:\.([0-9]+))?$/.exec(trimmed);
  if (match === null) {
    throw new AmountError(
      `"${shown}" is not an amount: write a number such as ${example(display)}`,
    );
  }
  const [, whole, fraction = ""] = match;
  if (fraction.length > display.decimals) {
    throw new AmountError(
      display.decimals === 0
        ? `"${shown}" has decimal places, but this server counts in whole ${
          display.unit || "numbers"
        }`
        : `"${shown}" has more than the server's ${display.decimals} decimal places`,
    );
  }
  const amount = trimmed.length > LONGEST
    ? MAX_AMOUNT + 1n
    : BigInt(whole + fraction.padEnd(display.decimals, "0"));
  if (amount > MAX_AMOUNT) {
    throw new AmountError(
      `"${shown}" is more than the largest amount, ${formatAmount(MAX_AMOUNT, display)}`,
    );
  }
  return amount;
}

/**
 * What amounts look like on this server, for help texts and messages.
 *
 * @example
 * ```ts
 * import { describeUnit } from "./amounts.ts";
 * describeUnit({ unit: "hours", decimals: 2 }); // "hours, with 2 decimal places (e.g. 12.50)"
 * describeUnit({ unit: "", decimals: 0 }); // "whole numbers (e.g. 12)"
 * ```
 */
export function describeUnit(display: DisplayUnit): string {
  const places = display.decimals === 0
    ? (display.unit === "" ? "whole numbers" : `whole ${display.unit}`)
    : `${display.unit === "" ? "numbers" : display.unit}, with ${display.decimals} decimal place${
      display.decimals === 1 ? "" : "s"
    }`;
  return `${places} (e.g. ${example(display)})`;
}

function example(display: DisplayUnit): string {
  const scale = 10n ** BigInt(display.decimals);
  return formatDecimal(12n * scale + scale / 2n, display.decimals);
}
