/** Typed calls for every client command, over a {@linkcode Client}. */

import {
  amountArgs,
  balanceBody,
  labelBody,
  noArgs,
  pageArgs,
  pageHeader,
  paymentBody,
  paymentEntry,
  paymentIdArgs,
  paymentInArgs,
  paymentOutArgs,
  peerEntry,
  serverInfoBody,
  trustlineInBody,
  trustlineOutBody,
} from "../wire/arguments.ts";
import { DatagramError } from "../wire/datagram.ts";
import { LABEL_SIZE, type Layout } from "../wire/layout.ts";
import { ClientCommand } from "../wire/commands.ts";
import type { AccountRef } from "../wire/names.ts";
import type { DisplayUnit } from "./amounts.ts";
import type { Client } from "./client.ts";

/** A trustline as the account that receives it sees it. */
export interface TrustlineIn {
  amount: bigint;
  syncIn: number;
  /** Unix seconds of the last confirmation from the peer's server; 0 if never. */
  lastSync: number;
}

/** A trustline as the account that sets it sees it. */
export interface TrustlineOut {
  amount: bigint;
  counter: number;
  syncOut: number;
}

/**
 * Client command 0: extend `amount` of credit to `peer`.
 *
 * @example
 * ```ts ignore
 * await setTrustline(client, { username: "bob", address: "127.0.0.3" }, 100n);
 * ```
 */
export async function setTrustline(
  client: Client,
  peer: AccountRef,
  amount: bigint,
): Promise<void> {
  await client.call(ClientCommand.SetTrustline, peer, amountArgs.encode({ amount }));
}

/** Client command 1: ask the peer's server to send its trustline again. */
export async function syncTrustlineIn(client: Client, peer: AccountRef): Promise<void> {
  await client.call(ClientCommand.SyncTrustlineIn, peer, noArgs.encode({}));
}

/** Client command 2: send our trustline to the peer's server again, now. */
export async function syncTrustlineOut(client: Client, peer: AccountRef): Promise<void> {
  await client.call(ClientCommand.SyncTrustlineOut, peer, noArgs.encode({}));
}

/** Client command 3: the peer's trustline to us. */
export async function getTrustlineIn(client: Client, peer: AccountRef): Promise<TrustlineIn> {
  const body = trustlineInBody.decode(
    await client.call(ClientCommand.GetTrustlineIn, peer, noArgs.encode({})),
  );
  return { amount: body.amount, syncIn: body.syncIn, lastSync: Number(body.lastSync) };
}

/** Client command 4: our trustline to the peer, and whether the peer's server confirmed it. */
export async function getTrustlineOut(client: Client, peer: AccountRef): Promise<TrustlineOut> {
  return trustlineOutBody.decode(
    await client.call(ClientCommand.GetTrustlineOut, peer, noArgs.encode({})),
  );
}

/** A payment as one account's server reports it (client command 7). */
export interface PaymentStatus {
  /** 0 unknown, 1 searching, 2 path found, 3 locking, 4 committing, 5 finalizing, 6 completed, 7 failed. */
  state: number;
  amount: bigint;
  /** 1 buyer, 2 seller, 3 on the way. */
  role: number;
  /** Why it failed; see docs/protocol.md. */
  reason: number;
  /** Milliseconds since the epoch of the last change. */
  updatedAt: number;
  /** Past the commit: what it waits on (docs/protocol.md §9), or null. */
  wait: PaymentWait | null;
  /**
   * The seller's receipt secret, once this account knows the seller holds the commit: the
   * SHA-256 of it is the payment id (docs/protocol.md §6). Null when none is known.
   */
  receipt: Uint8Array | null;
}

/** What a committed payment waits on, as get payment tells it. */
export interface PaymentWait {
  on: AccountRef;
  /** `answer`: the next account's answer; `finalize`: the previous account's finalize. */
  kind: "answer" | "finalize";
  /** When the wait starts to cost the neighbour (ms since the epoch). */
  due: number;
  overdue: boolean;
  /** Released so far towards the next account: what the wait has cost it. */
  released: bigint;
  /** When the payment ends at the latest (ms since the epoch). */
  endsBy: number;
}

/**
 * Client command 5: pay `amount` to `seller`, under a payment id both sides know; with
 * `receipt`, no account on the path believes the payment committed without the seller's
 * receipt secret (docs/protocol.md §6), so the seller's receive must have made the id.
 */
export async function newPaymentOut(
  client: Client,
  seller: AccountRef,
  id: Uint8Array,
  amount: bigint,
  label: Uint8Array = new Uint8Array(LABEL_SIZE),
  receipt = false,
): Promise<void> {
  await client.call(
    ClientCommand.NewPaymentOut,
    seller,
    paymentOutArgs.encode({ id, amount, label, receipt: receipt ? 1 : 0 }),
  );
}

/**
 * Client command 20: the account's routing label, for the seller to hand to the buyer with
 * the payment id, so the buyer's server can walk towards it (docs/protocol.md §5.2).
 */
export async function getLabel(client: Client): Promise<Uint8Array> {
  return labelBody.decode(await client.call(ClientCommand.GetLabel, null, noArgs.encode({})))
    .label;
}

/**
 * Client command 6: expect `amount` from `buyer` under a payment id (the seller's side);
 * `secret`, whose SHA-256 the id must be, is the receipt the server reveals once it holds the
 * commit (docs/protocol.md §6; see `newReceipt` in src/auth/receipts.ts).
 */
export async function newPaymentIn(
  client: Client,
  buyer: AccountRef,
  id: Uint8Array,
  amount: bigint,
  secret: Uint8Array = new Uint8Array(32),
): Promise<void> {
  await client.call(
    ClientCommand.NewPaymentIn,
    buyer,
    paymentInArgs.encode({ id, amount, secret }),
  );
}

/** Client command 7: where a payment stands at this account. */
export async function getPayment(client: Client, id: Uint8Array): Promise<PaymentStatus> {
  const body = paymentBody.decode(
    await client.call(ClientCommand.GetPayment, null, paymentIdArgs.encode({ id })),
  );
  const wait: PaymentWait | null = body.waitKind === 0 ? null : {
    on: { username: body.waitName, address: body.waitAddress },
    kind: body.waitKind === 1 ? "answer" : "finalize",
    due: Number(body.waitDue),
    overdue: body.overdue === 1,
    released: body.released,
    endsBy: Number(body.endsBy),
  };
  return {
    state: body.state,
    amount: body.amount,
    role: body.role,
    reason: body.reason,
    updatedAt: Number(body.updatedAt),
    wait,
    receipt: body.secret.some((byte) => byte !== 0) ? body.secret : null,
  };
}

/** Client command 8: the balance with a peer and the amounts locked by payments in flight. */
export async function getBalance(
  client: Client,
  peer: AccountRef,
): Promise<{ balance: bigint; lockedIn: bigint; lockedOut: bigint }> {
  return balanceBody.decode(await client.call(ClientCommand.GetBalance, peer, noArgs.encode({})));
}

/** A peer as client command 9 lists it. */
export interface PeerSummary {
  peer: AccountRef;
  trustlineOut: bigint;
  trustlineIn: bigint;
  balance: bigint;
}

/** Client command 9: one page of the account's peers, from `offset`. */
export async function listPeers(
  client: Client,
  offset = 0,
): Promise<{ total: number; peers: PeerSummary[] }> {
  const body = await client.call(ClientCommand.ListPeers, null, pageArgs.encode({ offset }));
  const { total, entries } = decodePage(body, peerEntry);
  return {
    total,
    peers: entries.map((entry) => ({
      peer: { username: entry.username, address: entry.address },
      trustlineOut: entry.trustlineOut,
      trustlineIn: entry.trustlineIn,
      balance: entry.balance,
    })),
  };
}

/** A payment as client command 10 lists it. */
export interface PaymentSummary {
  id: Uint8Array;
  state: number;
  role: number;
  reason: number;
  amount: bigint;
  /** Buyer: the seller; seller: the buyer; null for a payment on the way. */
  counterpart: AccountRef | null;
  /** Milliseconds since the epoch of the last change. */
  updatedAt: number;
}

/** What a committed payment waits on, as get payment tells it. */
export interface PaymentWait {
  on: AccountRef;
  /** `answer`: the next account's answer; `finalize`: the previous account's finalize. */
  kind: "answer" | "finalize";
  /** When the wait starts to cost the neighbour (ms since the epoch). */
  due: number;
  overdue: boolean;
  /** Released so far towards the next account: what the wait has cost it. */
  released: bigint;
  /** When the payment ends at the latest (ms since the epoch). */
  endsBy: number;
}

/** Client command 10: one page of the account's payments (in flight first, then ended), from `offset`. */
export async function listPayments(
  client: Client,
  offset = 0,
): Promise<{ total: number; payments: PaymentSummary[] }> {
  const body = await client.call(ClientCommand.ListPayments, null, pageArgs.encode({ offset }));
  const { total, entries } = decodePage(body, paymentEntry);
  return {
    total,
    payments: entries.map((entry) => ({
      id: entry.id,
      state: entry.state,
      role: entry.role,
      reason: entry.reason,
      amount: entry.amount,
      counterpart: entry.counterpartName === ""
        ? null
        : { username: entry.counterpartName, address: entry.counterpartAddress },
      updatedAt: Number(entry.updatedAt),
    })),
  };
}

/** What client command 11 tells about the server. */
export interface ServerInfo {
  /** How the server's amounts are shown. */
  display: DisplayUnit;
  /** The server's own canonical address, as its accounts are named. */
  address: string;
}

/**
 * Client command 11: the server's display unit and address.
 *
 * @example
 * ```ts ignore
 * const { display } = await serverInfo(client);
 * formatAmount(2550n, display); // "25.50 hours"
 * ```
 */
export async function serverInfo(client: Client): Promise<ServerInfo> {
  const body = serverInfoBody.decode(
    await client.call(ClientCommand.ServerInfo, null, noArgs.encode({})),
  );
  return { display: { unit: body.unit, decimals: body.decimals }, address: body.address };
}

// deno-lint-ignore no-explicit-any
function decodePage<F extends Record<string, any>>(body: Uint8Array, entry: Layout<F>) {
  const header = pageHeader.decode(body.subarray(0, pageHeader.total));
  if (body.length !== pageHeader.total + header.count * entry.total) {
    throw new DatagramError("a list page whose length does not match its count");
  }
  const entries = [];
  for (let i = 0; i < header.count; i++) {
    const at = pageHeader.total + i * entry.total;
    entries.push(entry.decode(body.subarray(at, at + entry.total)));
  }
  return { total: header.total, entries };
}

/** Names of the payment states of client command 7, by code. */
export const PAYMENT_STATES = [
  "unknown",
  "searching",
  "path found",
  "locking",
  "committing",
  "finalizing",
  "completed",
  "failed",
] as const;

/** Names of the roles of client command 7 and 10, by code. */
export const PAYMENT_ROLES = ["", "buyer", "seller", "on the way"] as const;

/** Whether a payment state code is final (completed or failed). */
export function isFinalState(state: number): boolean {
  return state === 6 || state === 7;
}

/**
 * Polls client command 7 until the payment is completed or failed, or `timeoutMs` passes
 * (then it returns the last state seen).
 */
export async function waitForPayment(
  client: Client,
  id: Uint8Array,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<PaymentStatus> {
  const end = Date.now() + options.timeoutMs;
  for (;;) {
    const status = await getPayment(client, id);
    if (isFinalState(status.state) || Date.now() >= end) return status;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
