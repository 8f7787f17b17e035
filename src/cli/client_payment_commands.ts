/** The `ripple client` subcommands of payments. */

import { toHex } from "../auth/keys.ts";
import { newReceipt } from "../auth/receipts.ts";
import { type DisplayUnit, formatAmount, formatDecimal } from "../client/amounts.ts";
import type { Client } from "../client/client.ts";
import * as api from "../client/commands.ts";
import { formatLabel, InvoiceError, parseLabel } from "../client/invoice.ts";
import { formatAccountRef } from "../wire/names.ts";
import { UsageError } from "./args.ts";
import {
  amountArg,
  idArg,
  peerArg,
  type Subcommand,
  type SubcommandOptions,
} from "./client_call.ts";
import { paymentListEntry, type Printer, printPayment } from "./client_output.ts";

/** The payment subcommands, by name. */
export const PAYMENT_COMMANDS: Record<string, Subcommand> = {
  receive: {
    usage: "receive BUYER AMOUNT [--id ID] [--wait]",
    summary: "expect AMOUNT from BUYER; prints the payment id for the buyer",
    help: `Announces that this account (the seller) expects AMOUNT from BUYER (NAME@ADDRESS) and
starts its side of the path search. Prints the payment id alone on standard output (the
words around it go to standard error), so ID=$(ripple client receive ...) keeps it; give
it to the buyer, who pays under it, with the routing label printed beside it (--label: the
buyer's server then walks towards this account instead of flooding). Run it before the
buyer's pay. The id is made from a receipt secret that this account's server reveals only
once it holds the payment, so the buyer can pay with --receipt: then no server on the way
can make the buyer pay by claiming falsely that this account was paid.

Options:
  --id ID     use this payment id (64 hex characters) instead of one made from a receipt
              secret (the buyer must then pay without --receipt)
  --wait      wait until the payment is completed or failed, and print how it ended (the
              id then goes to standard error, for the buyer)

Example:
  ID=$(ripple client receive alice@127.0.0.2 25)`,
    args: 2,
    async run({ args: [buyerText, amountText], print, note, client, display, options }) {
      const buyer = peerArg(buyerText);
      const unit = await display();
      const amount = amountArg(amountText, unit, true);
      const { id, secret } = options.id === undefined
        ? newReceipt()
        : { id: idArg(options.id), secret: undefined };
      // The label first: a seller that handed it out holds its flood for the buyer's walk.
      const label = formatLabel(await api.getLabel(client));
      await api.newPaymentIn(client, buyer, id, amount, secret);
      const expecting = `Expecting ${formatAmount(amount, unit)} from ${formatAccountRef(buyer)}.`;
      const flags = `--label ${label}${secret === undefined ? "" : " --receipt"}`;
      if (options.wait) {
        note(
          `${expecting} Give the buyer this payment id, ${toHex(id)}, and ${flags}; ` +
            "waiting for the payment.",
        );
        return await waitAndPrint(client, id, unit, print, options);
      }
      note(`${expecting} Give the buyer this payment id (and ${flags}):`);
      print(toHex(id), {
        id: toHex(id),
        label,
        receipt: secret !== undefined,
        amount: formatDecimal(amount, unit.decimals),
        buyer: formatAccountRef(buyer),
      });
      return true;
    },
  },
  pay: {
    usage: "pay SELLER AMOUNT --id ID [--label LABEL] [--receipt] [--wait]",
    summary: "pay AMOUNT to SELLER under the id SELLER's receive printed",
    help: `Pays AMOUNT to SELLER (NAME@ADDRESS) under the payment id the seller's receive printed.
The servers search a path of trustlines with enough credit and commit it in three steps.

Options:
  --id ID              the payment id (required)
  --label LABEL        the seller's routing label, as its receive printed it (without it the
                       servers search by the flood alone)
  --receipt            demand the seller's receipt, as its receive said: no server on the
                       way then counts the payment as made until the seller's server has
                       shown the secret behind the id (fails with its reason if it has none)
  --wait               wait until the payment is completed or failed (exit status 1 if failed)
  --timeout SECONDS    how long --wait waits (default 60)

Example:
  ripple client pay carol@127.0.0.4 25 --id "$ID" --receipt --wait`,
    args: 2,
    async run({ args: [sellerText, amountText], print, client, display, options }) {
      const seller = peerArg(sellerText);
      if (options.id === undefined) {
        throw new UsageError(
          "pay needs --id ID: the id the seller's receive printed",
          "client pay",
        );
      }
      const id = idArg(options.id);
      const unit = await display();
      const amount = amountArg(amountText, unit, true);
      const label = options.label === undefined ? undefined : labelArg(options.label);
      await api.newPaymentOut(client, seller, id, amount, label, options.receipt);
      if (options.wait) return await waitAndPrint(client, id, unit, print, options);
      print(
        `Paying ${formatAmount(amount, unit)} to ${
          formatAccountRef(seller)
        }; follow it with: payment ${toHex(id)}`,
        {
          id: toHex(id),
          amount: formatDecimal(amount, unit.decimals),
          seller: formatAccountRef(seller),
        },
      );
      return true;
    },
  },
  payment: {
    usage: "payment ID [--wait]",
    summary: "where a payment stands at this account",
    help: `Shows where the payment ID stands at this account: its state, role and amount, and
why it failed if it did. Exit status 1 if it failed or this account does not know it.

Options:
  --wait               wait until the payment is completed or failed
  --timeout SECONDS    how long --wait waits (default 60)`,
    args: 1,
    async run({ args: [idText], print, client, display, options }) {
      const id = idArg(idText);
      if (options.wait) return await waitAndPrint(client, id, await display(), print, options);
      const status = await api.getPayment(client, id);
      return printPayment(id, status, await display(), print);
    },
  },
  payments: {
    usage: "payments [--offset N]",
    summary: "the account's payments, in flight first",
    help: `Lists the account's payments, 100 at a time (--offset N starts at entry N), those in
flight first: when each last changed, its state, the other party, the amount and the id.`,
    args: 0,
    async run({ print, client, display, options }) {
      const page = await api.listPayments(client, options.offset);
      const unit = await display();
      const entries = page.payments.map((p) => paymentListEntry(p, unit));
      const lines = entries.map((entry) => entry.human);
      print(`${page.total} payment(s)${lines.length ? "\n" + lines.join("\n") : ""}`, {
        total: page.total,
        payments: entries.map((entry) => entry.json),
      });
      return true;
    },
  },
};

async function waitAndPrint(
  client: Client,
  id: Uint8Array,
  unit: DisplayUnit,
  print: Printer,
  options: SubcommandOptions,
): Promise<boolean> {
  const status = await api.waitForPayment(client, id, { timeoutMs: options.timeoutMs });
  return printPayment(id, status, unit, print);
}

function labelArg(text: string): Uint8Array {
  try {
    return parseLabel(text);
  } catch (error) {
    if (error instanceof InvoiceError) {
      throw new UsageError(`--label: ${error.message}`, "client pay");
    }
    throw error;
  }
}
