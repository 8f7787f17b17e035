/** The subcommands of `ripple client`: arguments, the call, and the human and JSON output. */

import { fromHex, toHex } from "../auth/keys.ts";
import type { Client } from "../client/client.ts";
import * as api from "../client/commands.ts";
import { type AccountRef, formatAccountRef, NameError, parseAccountRef } from "../wire/names.ts";
import { reasonText } from "../wire/reasons.ts";
import { UsageError } from "./args.ts";

/** Prints a result: `human` by default, `json` with `--json`. */
export type Printer = (human: string, json: Record<string, unknown>) => void;

/** Options of a subcommand beyond its positional arguments. */
export interface SubcommandOptions {
  id?: string;
  wait: boolean;
  timeoutMs: number;
  offset: number;
}

/** One client subcommand. */
export interface Subcommand {
  usage: string;
  args: number;
  run(client: Client, args: string[], print: Printer, options: SubcommandOptions): Promise<boolean>;
}

const ROLES: readonly string[] = api.PAYMENT_ROLES;

/** Every client subcommand by name; `run` resolves false when the outcome is a failure. */
export const SUBCOMMANDS: Record<string, Subcommand> = {
  "set-trustline": {
    usage: "set-trustline PEER AMOUNT    extend AMOUNT of credit to PEER (NAME@ADDRESS)",
    args: 2,
    async run(client, [peerText, amountText], print) {
      const peer = peerArg(peerText);
      const amount = amountArg(amountText);
      await api.setTrustline(client, peer, amount);
      print(
        `Trustline to ${
          formatAccountRef(peer)
        } set to ${amount}; it is on its way to the peer's server.`,
        {
          peer: formatAccountRef(peer),
          amount: amount.toString(),
        },
      );
      return true;
    },
  },
  "get-trustline-out": {
    usage: "get-trustline-out PEER       our trustline to PEER, and whether PEER's server has it",
    args: 1,
    async run(client, [peerText], print) {
      const peer = peerArg(peerText);
      const line = await api.getTrustlineOut(client, peer);
      const synced = line.syncOut === line.counter;
      const state = synced
        ? "confirmed by the peer's server"
        : `the peer's server has change ${line.syncOut}`;
      print(
        `Trustline to ${formatAccountRef(peer)}: ${line.amount} (change ${line.counter}, ${state})`,
        {
          peer: formatAccountRef(peer),
          amount: line.amount.toString(),
          counter: line.counter,
          syncOut: line.syncOut,
          synced,
        },
      );
      return true;
    },
  },
  "get-trustline-in": {
    usage: "get-trustline-in PEER        PEER's trustline to us",
    args: 1,
    async run(client, [peerText], print) {
      const peer = peerArg(peerText);
      const line = await api.getTrustlineIn(client, peer);
      const when = line.lastSync === 0
        ? "never synced"
        : `last synced ${new Date(line.lastSync * 1000).toISOString()}`;
      print(
        `Trustline from ${formatAccountRef(peer)}: ${line.amount} (change ${line.syncIn}, ${when})`,
        {
          peer: formatAccountRef(peer),
          amount: line.amount.toString(),
          syncIn: line.syncIn,
          lastSync: line.lastSync,
        },
      );
      return true;
    },
  },
  "sync-trustline-out": {
    usage: "sync-trustline-out PEER      send our trustline to PEER's server again now",
    args: 1,
    async run(client, [peerText], print) {
      const peer = peerArg(peerText);
      await api.syncTrustlineOut(client, peer);
      print(`Trustline to ${formatAccountRef(peer)} sent again.`, { peer: formatAccountRef(peer) });
      return true;
    },
  },
  "sync-trustline-in": {
    usage: "sync-trustline-in PEER       ask PEER's server to send its trustline again",
    args: 1,
    async run(client, [peerText], print) {
      const peer = peerArg(peerText);
      await api.syncTrustlineIn(client, peer);
      print(`Asked ${formatAccountRef(peer)}'s server to send its trustline again.`, {
        peer: formatAccountRef(peer),
      });
      return true;
    },
  },
  receive: {
    usage:
      "receive BUYER AMOUNT         expect AMOUNT from BUYER; prints the payment id to give the buyer",
    args: 2,
    async run(client, [buyerText, amountText], print, options) {
      const buyer = peerArg(buyerText);
      const amount = amountArg(amountText);
      const id = options.id === undefined
        ? crypto.getRandomValues(new Uint8Array(32))
        : idArg(options.id);
      await api.newPaymentIn(client, buyer, id, amount);
      if (!options.wait) {
        print(
          `Expecting ${amount} from ${formatAccountRef(buyer)}. Give the buyer this payment id:\n${
            toHex(id)
          }`,
          {
            id: toHex(id),
            amount: amount.toString(),
            buyer: formatAccountRef(buyer),
          },
        );
        return true;
      }
      return await waitAndPrint(client, id, print, options);
    },
  },
  pay: {
    usage:
      "pay SELLER AMOUNT --id ID    pay AMOUNT to SELLER under the id SELLER's receive printed",
    args: 2,
    async run(client, [sellerText, amountText], print, options) {
      const seller = peerArg(sellerText);
      const amount = amountArg(amountText);
      if (options.id === undefined) {
        throw new UsageError("pay needs --id ID: the id the seller's `receive` printed");
      }
      const id = idArg(options.id);
      await api.newPaymentOut(client, seller, id, amount);
      if (!options.wait) {
        print(
          `Paying ${amount} to ${formatAccountRef(seller)}; follow it with: payment ${toHex(id)}`,
          {
            id: toHex(id),
            amount: amount.toString(),
            seller: formatAccountRef(seller),
          },
        );
        return true;
      }
      return await waitAndPrint(client, id, print, options);
    },
  },
  payment: {
    usage: "payment ID                   where a payment stands at this account",
    args: 1,
    async run(client, [idText], print) {
      const id = idArg(idText);
      return printPayment(id, await api.getPayment(client, id), print);
    },
  },
  balance: {
    usage: "balance PEER                 the balance with PEER and the amounts locked by payments",
    args: 1,
    async run(client, [peerText], print) {
      const peer = peerArg(peerText);
      const books = await api.getBalance(client, peer);
      const standing = books.balance === 0n
        ? "even"
        : books.balance > 0n
        ? `${formatAccountRef(peer)} owes us ${books.balance}`
        : `we owe ${formatAccountRef(peer)} ${-books.balance}`;
      print(
        `With ${
          formatAccountRef(peer)
        }: ${standing}; locked towards us ${books.lockedIn}, towards them ${books.lockedOut}`,
        {
          peer: formatAccountRef(peer),
          balance: books.balance.toString(),
          lockedIn: books.lockedIn.toString(),
          lockedOut: books.lockedOut.toString(),
        },
      );
      return true;
    },
  },
  peers: {
    usage: "peers [--offset N]           the account's peers with trustlines and balances",
    args: 0,
    async run(client, _args, print, options) {
      const page = await api.listPeers(client, options.offset);
      const lines = page.peers.map((p) =>
        `${
          formatAccountRef(p.peer)
        }  trust out ${p.trustlineOut}  trust in ${p.trustlineIn}  balance ${p.balance}`
      );
      print(`${page.total} peer(s)${lines.length ? "\n" + lines.join("\n") : ""}`, {
        total: page.total,
        peers: page.peers.map((p) => ({
          peer: formatAccountRef(p.peer),
          trustlineOut: p.trustlineOut.toString(),
          trustlineIn: p.trustlineIn.toString(),
          balance: p.balance.toString(),
        })),
      });
      return true;
    },
  },
  payments: {
    usage: "payments [--offset N]        the account's payments, in flight first",
    args: 0,
    async run(client, _args, print, options) {
      const page = await api.listPayments(client, options.offset);
      const lines = page.payments.map((p) =>
        `${toHex(p.id)}  ${api.PAYMENT_STATES[p.state] ?? p.state}  ${
          ROLES[p.role] ?? p.role
        }  ${p.amount}`
      );
      print(`${page.total} payment(s)${lines.length ? "\n" + lines.join("\n") : ""}`, {
        total: page.total,
        payments: page.payments.map((p) => ({
          id: toHex(p.id),
          state: api.PAYMENT_STATES[p.state] ?? p.state,
          role: ROLES[p.role] ?? p.role,
          reason: p.reason,
          amount: p.amount.toString(),
        })),
      });
      return true;
    },
  },
};

async function waitAndPrint(
  client: Client,
  id: Uint8Array,
  print: Printer,
  options: SubcommandOptions,
): Promise<boolean> {
  return printPayment(
    id,
    await api.waitForPayment(client, id, { timeoutMs: options.timeoutMs }),
    print,
  );
}

function printPayment(id: Uint8Array, status: api.PaymentStatus, print: Printer): boolean {
  const state = api.PAYMENT_STATES[status.state] ?? `state ${status.state}`;
  const reason = reasonText(status.reason);
  const role = ROLES[status.role] ?? "";
  const human = status.state === 0
    ? `Payment ${toHex(id)} is unknown to this account.`
    : `Payment ${toHex(id)}: ${state}${role ? ` (${role}, ${status.amount})` : ""}${
      status.state === 7 ? `: ${reason}` : ""
    }`;
  print(human, {
    id: toHex(id),
    state,
    role,
    amount: status.amount.toString(),
    reason: status.state === 7 ? reason : undefined,
    updatedAt: status.updatedAt,
  });
  return status.state !== 7 && status.state !== 0;
}

function peerArg(text: string): AccountRef {
  try {
    return parseAccountRef(text);
  } catch (error) {
    if (error instanceof NameError) {
      throw new UsageError(`${error.message} (expected NAME@ADDRESS)`);
    }
    throw error;
  }
}

function amountArg(text: string): bigint {
  if (!/^[0-9]+$/.test(text) || BigInt(text) >= 1n << 64n) {
    throw new UsageError(
      `AMOUNT must be a whole number from 0 to ${(1n << 64n) - 1n}, got "${text}"`,
    );
  }
  return BigInt(text);
}

function idArg(text: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new UsageError("a payment id is 64 lower-case hex characters");
  }
  return fromHex(text);
}
