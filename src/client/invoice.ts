/** Invoices: what a seller hands a buyer in one piece of text (who to pay, how much, under which payment id). */

import { fromHex, toHex } from "../auth/keys.ts";
import { type AccountRef, formatAccountRef, parseAccountRef } from "../wire/names.ts";

/** A payment a seller expects: the buyer pays `amount` to `seller` under `id`. */
export interface Invoice {
  seller: AccountRef;
  /** In the wire's whole units, never in a display unit, so the text means the same everywhere. */
  amount: bigint;
  /** The 32-byte payment id. */
  id: Uint8Array;
}

/** Text that is not an invoice; the message says what is wrong. */
export class InvoiceError extends Error {
  override name = "InvoiceError";
}

const SCHEME = "ripple:";
const MAX_U64 = (1n << 64n) - 1n;

/**
 * Writes an invoice as `ripple:SELLER?amount=AMOUNT&id=ID`.
 *
 * @example
 * ```ts
 * import { formatInvoice } from "./invoice.ts";
 * formatInvoice({ seller: { username: "carol", address: "127.0.0.4" }, amount: 25n, id: new Uint8Array(32) });
 * // "ripple:carol@127.0.0.4?amount=25&id=0000000000000000000000000000000000000000000000000000000000000000"
 * ```
 */
export function formatInvoice(invoice: Invoice): string {
  return `${SCHEME}${formatAccountRef(invoice.seller)}?amount=${invoice.amount}&id=${
    toHex(invoice.id)
  }`;
}

/**
 * Reads an invoice written by {@linkcode formatInvoice}; white space around it is allowed.
 * Throws {@linkcode InvoiceError} on anything else.
 *
 * @example
 * ```ts
 * import { parseInvoice } from "./invoice.ts";
 * parseInvoice(` ripple:carol@127.0.0.4?amount=25&id=${"ab".repeat(32)}\n`).amount; // 25n
 * ```
 */
export function parseInvoice(text: string): Invoice {
  const trimmed = text.trim();
  if (!trimmed.startsWith(SCHEME)) throw new InvoiceError(`an invoice starts with "${SCHEME}"`);
  const [sellerText, query, ...rest] = trimmed.slice(SCHEME.length).split("?");
  if (query === undefined || rest.length > 0) {
    throw new InvoiceError("an invoice is ripple:SELLER?amount=AMOUNT&id=ID");
  }
  let seller: AccountRef;
  try {
    seller = parseAccountRef(sellerText);
  } catch (error) {
    throw new InvoiceError(`the seller: ${error instanceof Error ? error.message : error}`);
  }
  const fields = new Map<string, string>();
  for (const pair of query.split("&")) {
    const eq = pair.indexOf("=");
    const name = eq === -1 ? pair : pair.slice(0, eq);
    if (fields.has(name)) throw new InvoiceError(`"${name}" appears twice`);
    fields.set(name, eq === -1 ? "" : pair.slice(eq + 1));
  }
  const amountText = fields.get("amount") ?? "";
  const idText = fields.get("id") ?? "";
  if (fields.size !== 2) throw new InvoiceError("an invoice has an amount and an id, nothing else");
  if (!/^[1-9][0-9]*$/.test(amountText) || BigInt(amountText) > MAX_U64) {
    throw new InvoiceError("the amount is a whole number above zero");
  }
  if (!/^[0-9a-f]{64}$/.test(idText)) {
    throw new InvoiceError("the payment id is 64 lower-case hex characters");
  }
  return { seller, amount: BigInt(amountText), id: fromHex(idText) };
}
