/** The pages about payments: receive (an invoice to hand over), pay (an invoice or its fields), the list, and one payment as it goes. */

import { fromHex, toHex } from "../auth/keys.ts";
import type { Client } from "../client/client.ts";
import {
  getLabel,
  getPayment,
  listPayments,
  newPaymentIn,
  newPaymentOut,
  type PaymentStatus,
  type PaymentSummary,
} from "../client/commands.ts";
import { formatInvoice, parseInvoice } from "../client/invoice.ts";
import { formatAccountRef } from "../wire/names.ts";
import {
  AmountError,
  type DisplayUnit,
  formatAmount,
  formatDecimal,
  parseAmount,
} from "../client/amounts.ts";
import { byId, onSubmit, type Page, pageLink, showError, sleep, type Wallet } from "./dom.ts";
import { peerArg } from "./peers_page.ts";
import { allEntries, tablePage } from "./table_page.ts";
import { paymentWords } from "./words.ts";

/** How often a payment in flight is asked about. */
const POLL_MS = 400;

/** An amount to pay or receive, typed in the server's display unit: more than zero. */
function paymentAmount(text: string, display: DisplayUnit): bigint {
  const amount = parseAmount(text, display);
  if (amount === 0n) throw new AmountError("a payment is of more than zero");
  return amount;
}

/**
 * Asks about a payment until it is completed or failed, calling `show` with each answer in
 * words, and stops early when the returned function is called.
 */
function followPayment(
  client: Client,
  id: Uint8Array,
  show: (text: string, failed: boolean, status: PaymentStatus) => void,
  onError: (caught: unknown) => void,
): () => void {
  let following = true;
  (async () => {
    while (following) {
      try {
        const status = await getPayment(client, id);
        const words = paymentWords(status);
        if (!following) return;
        const text = status.state === 0
          ? "unknown to this account"
          : `${words.state}${words.reason ? `: ${words.reason}` : ""}`;
        show(text, status.state === 7, status);
        onError(null);
        // An unknown payment stays unknown: only this account's own requests create one.
        if (words.final || status.state === 0) return;
      } catch (caught) {
        onError(caught);
      }
      await sleep(POLL_MS);
    }
  })();
  return () => following = false;
}

/** The receive page: the member names the buyer and the amount and gets an invoice to hand over. */
export function receivePage(wallet: Wallet): Page {
  const form = byId("receive-form", HTMLFormElement);
  const result = byId("receive-result", HTMLDivElement);
  const invoiceText = byId("receive-invoice", HTMLTextAreaElement);
  const copy = byId("receive-copy", HTMLButtonElement);
  const copied = byId("receive-copied", HTMLParagraphElement);
  const state = byId("receive-state", HTMLSpanElement);
  const error = byId("receive-error", HTMLParagraphElement);
  const follow = byId("receive-follow", HTMLAnchorElement);
  byId("receive-wait", HTMLSpanElement).textContent = String(
    Math.round(wallet.info.searchTimeoutMs / 1000),
  );
  let stop = () => {};
  onSubmit(form, async () => {
    stop();
    const buyer = peerArg(byId("receive-buyer", HTMLInputElement).value);
    const amount = paymentAmount(byId("receive-amount", HTMLInputElement).value, wallet.display);
    // The id is the SHA-256 of a receipt secret the server reveals once paid (protocol §6).
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const id = new Uint8Array(await crypto.subtle.digest("SHA-256", secret));
    // The label first: a seller that handed it out holds its flood for the buyer's walk.
    const label = await getLabel(wallet.client);
    await newPaymentIn(wallet.client, buyer, id, amount, secret);
    invoiceText.value = formatInvoice({ seller: wallet.me, amount, id, label, receipt: true });
    byId("receive-id", HTMLElement).textContent = toHex(id);
    follow.href = `#payment/${toHex(id)}`;
    copied.textContent = "";
    result.hidden = false;
    stop = followPayment(
      wallet.client,
      id,
      (text) => state.textContent = text,
      (caught) => showError(error, caught),
    );
    invoiceText.focus();
    invoiceText.select();
  });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(invoiceText.value);
      copied.textContent = "Invoice copied.";
    } catch {
      invoiceText.select();
      copied.textContent = "Copying is not allowed here; the invoice is selected, copy it by hand.";
    }
  });
  return {
    enter() {},
    leave() {
      stop();
    },
  };
}

/** The pay page: an invoice pasted in fills the seller, amount and id; the member checks them and pays. */
export function payPage(wallet: Wallet): Page {
  const form = byId("pay-form", HTMLFormElement);
  const invoice = byId("pay-invoice", HTMLTextAreaElement);
  const seller = byId("pay-seller", HTMLInputElement);
  const amount = byId("pay-amount", HTMLInputElement);
  const idInput = byId("pay-id", HTMLInputElement);
  const error = byId("pay-error", HTMLParagraphElement);
  // The seller's routing label and whether its id is a receipt's, kept while the fields
  // still say what the invoice said.
  let pasted: { seller: string; id: string; label?: Uint8Array; receipt: boolean } | null = null;
  invoice.addEventListener("input", () => {
    pasted = null;
    if (invoice.value.trim() === "") return showError(error, null);
    try {
      const parsed = parseInvoice(invoice.value);
      pasted = {
        seller: formatAccountRef(parsed.seller),
        id: toHex(parsed.id),
        label: parsed.label,
        receipt: parsed.receipt === true,
      };
      seller.value = formatAccountRef(parsed.seller);
      amount.value = formatDecimal(parsed.amount, wallet.display.decimals);
      idInput.value = toHex(parsed.id);
      showError(error, null);
    } catch (caught) {
      showError(error, caught);
    }
  });
  onSubmit(form, async () => {
    const to = peerArg(seller.value);
    const value = paymentAmount(amount.value, wallet.display);
    const idText = idInput.value.trim();
    if (!/^[0-9a-f]{64}$/.test(idText)) {
      throw new Error("the payment id is 64 lower-case hex characters, as the seller gave it");
    }
    const same = pasted !== null && pasted.seller === formatAccountRef(to) &&
      pasted.id === idText;
    const label = same ? pasted!.label : undefined;
    // Demanded only for an invoice that says its id is a receipt's: the seller can show it.
    await newPaymentOut(wallet.client, to, fromHex(idText), value, label, same && pasted!.receipt);
    form.reset();
    location.hash = `#payment/${idText}`;
  });
  return { enter() {} };
}

/** The other party of a payment from the member's side: "to carol@…", "from alice@…", or "on the way". */
function party(payment: PaymentSummary): string {
  if (payment.counterpart === null) return paymentWords(payment).role;
  return `${payment.role === 2 ? "from" : "to"} ${formatAccountRef(payment.counterpart)}`;
}

/** The payments page: in flight first, then ended, each a link to its own page. */
export function paymentsPage(wallet: Wallet): Page {
  const load = () =>
    allEntries(async (offset) => {
      const page = await listPayments(wallet.client, offset);
      return { total: page.total, entries: page.payments };
    });
  return tablePage("payments", load, (p) => {
    const words = paymentWords(p);
    const hex = toHex(p.id);
    return [
      pageLink(`${hex.slice(0, 12)}…`, `payment/${hex}`),
      party(p),
      formatAmount(p.amount, wallet.display),
      `${words.state}${words.reason ? `: ${words.reason}` : ""}`,
    ];
  });
}

/** One payment's page: its id, role and amount, and its state as it changes, until it ends. */
export function paymentPage(wallet: Wallet): Page {
  const idText = byId("payment-id", HTMLElement);
  const role = byId("payment-role", HTMLElement);
  const amount = byId("payment-amount", HTMLElement);
  const state = byId("payment-state", HTMLElement);
  // The seller's receipt secret (docs/protocol.md §6), once this account knows it.
  const receiptRow = byId("payment-receipt-row", HTMLElement);
  const receipt = byId("payment-receipt", HTMLElement);
  const error = byId("payment-error", HTMLParagraphElement);
  let stop = () => {};
  return {
    async enter(arg: string) {
      stop();
      for (const field of [role, amount, state, receipt]) field.textContent = "";
      receiptRow.hidden = true;
      idText.textContent = arg;
      if (!/^[0-9a-f]{64}$/.test(arg)) {
        return showError(error, new Error("that is not a payment id"));
      }
      const id = fromHex(arg);
      try {
        const first = await getPayment(wallet.client, id);
        role.textContent = paymentWords(first).role;
        amount.textContent = first.state === 0 ? "" : formatAmount(first.amount, wallet.display);
      } catch (caught) {
        return showError(error, caught);
      }
      stop = followPayment(wallet.client, id, (text, failed, status) => {
        state.textContent = text;
        state.classList.toggle("failed", failed);
        receiptRow.hidden = status.receipt === null;
        receipt.textContent = status.receipt === null ? "" : toHex(status.receipt);
      }, (caught) => showError(error, caught));
    },
    leave() {
      stop();
    },
  };
}
