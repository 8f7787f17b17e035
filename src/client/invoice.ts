/** Invoices: what a seller hands a buyer in one piece of text (who to pay, how much, under which payment id). */

import { fromHex, toHex } from "../auth/keys.ts";
import { LABEL_SIZE } from "../wire/layout.ts";
import { type AccountRef, formatAccountRef, parseAccountRef } from "../wire/names.ts";

/** A payment a seller expects: the buyer pays `amount` to `seller` under `id`. */
export interface Invoice {
  seller: AccountRef;
  /** In the wire's whole units, never in a display unit, so the text means the same everywhere. */
  amount: bigint;
  /** The 32-byte payment id. */
  id: Uint8Array;
  /**
   * The seller's routing label (client command 20), for the buyer's server to walk towards;
   * absent from older invoices, whose buyers' servers search by the flood alone.
   */
  label?: Uint8Array;
  /**
   * The id is the SHA-256 of the seller's receipt secret, so the buyer may demand the
   * receipt (docs/protocol.md §6); absent from older invoices and ids of the seller's choosing.
   */
  receipt?: boolean;
}

/** Text that is not an invoice; the message says what is wrong. */
export class InvoiceError extends Error {
  override name = "InvoiceError";
}

const SCHEME = "ripple:";
const MAX_U64 = (1n << 64n) - 1n;

/**
 * Writes an invoice as `ripple:SELLER?amount=AMOUNT&id=ID`, then `&label=LABEL` when it has
 * one (base64url, without its trailing zero bytes), then `&receipt=1` when its id is a receipt's.
 *
 * @example
 * ```ts
 * import { formatInvoice } from "./invoice.ts";
 * formatInvoice({ seller: { username: "carol", address: "127.0.0.4" }, amount: 25n, id: new Uint8Array(32) });
 * // "ripple:carol@127.0.0.4?amount=25&id=0000000000000000000000000000000000000000000000000000000000000000"
 * ```
 */
export function formatInvoice(invoice: Invoice): string {
  const label = invoice.label === undefined ? "" : `&label=${formatLabel(invoice.label)}`;
  const receipt = invoice.receipt === true ? "&receipt=1" : "";
  return `${SCHEME}${formatAccountRef(invoice.seller)}?amount=${invoice.amount}&id=${
    toHex(invoice.id)
  }${label}${receipt}`;
}

/**
 * A routing label as text (base64url without its trailing zero bytes), as invoices and
 * `ripple client pay --label` carry it.
 *
 * @example
 * ```ts
 * import { formatLabel, parseLabel } from "./invoice.ts";
 * parseLabel(formatLabel(new Uint8Array(207).fill(1, 0, 3)))[2]; // 1
 * ```
 */
export function formatLabel(label: Uint8Array): string {
  let end = label.length;
  while (end > 0 && label[end - 1] === 0) end--;
  let binary = "";
  for (const byte of label.subarray(0, end)) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Reads {@linkcode formatLabel}'s text; throws {@linkcode InvoiceError} on anything else. */
export function parseLabel(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) {
    throw new InvoiceError("the label is base64url (A-Z a-z 0-9 - _)");
  }
  let binary: string;
  try {
    binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    throw new InvoiceError("the label is not base64url");
  }
  if (binary.length > LABEL_SIZE) throw new InvoiceError("the label is too long");
  const label = new Uint8Array(LABEL_SIZE);
  for (let i = 0; i < binary.length; i++) label[i] = binary.charCodeAt(i);
  return label;
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
  const labelText = fields.get("label");
  const receiptText = fields.get("receipt");
  const optional = (labelText === undefined ? 0 : 1) + (receiptText === undefined ? 0 : 1);
  if (fields.size !== 2 + optional || !fields.has("id")) {
    throw new InvoiceError(
      "an invoice has an amount, an id and maybe a label and a receipt, nothing else",
    );
  }
  if (receiptText !== undefined && receiptText !== "1") {
    throw new InvoiceError("receipt is 1 when given");
  }
  if (!/^[1-9][0-9]*$/.test(amountText) || BigInt(amountText) > MAX_U64) {
    throw new InvoiceError("the amount is a whole number above zero");
  }
  if (!/^[0-9a-f]{64}$/.test(idText)) {
    throw new InvoiceError("the payment id is 64 lower-case hex characters");
  }
  const invoice: Invoice = { seller, amount: BigInt(amountText), id: fromHex(idText) };
  if (labelText !== undefined) invoice.label = parseLabel(labelText);
  if (receiptText !== undefined) invoice.receipt = true;
  return invoice;
}
