/**
 * What an account holds with its peers, read from a datadir: the books with each peer and the
 * payments in flight. `account list`, `peer list` and `status` show it; `account remove` and
 * `peer remove` refuse to drop any of it unless forced.
 */

import { type DisplayUnit, formatAmount, formatDecimal } from "../client/amounts.ts";
import { type Books, readBooks } from "../store/books.ts";
import { listPeers } from "../store/paths.ts";
import type { Tx } from "../store/tx.ts";
import { listPayments, type PaymentRecord, readPayment } from "../payments/record.ts";
import { type AccountRef, formatAccountRef, sameAccount } from "../wire/names.ts";
import { peerLine, standing } from "./client_output.ts";

/** One peer of an account, with its books. */
export interface PeerHolding {
  peer: AccountRef;
  books: Books;
}

/** An account's peers and payments in flight. */
export interface AccountHoldings {
  username: string;
  peers: PeerHolding[];
  inFlight: PaymentRecord[];
}

/** Reads what `username` holds. */
export async function readHoldings(tx: Tx, username: string): Promise<AccountHoldings> {
  const peers: PeerHolding[] = [];
  for (const peer of await listPeers(tx, username)) {
    peers.push({ peer, books: await readBooks(tx, username, peer) });
  }
  const inFlight: PaymentRecord[] = [];
  for (const idHex of await listPayments(tx, username, false)) {
    const record = await readPayment(tx, username, idHex);
    if (record !== undefined) inFlight.push(record);
  }
  return { username, peers, inFlight };
}

/** Whether a payment in flight runs over the edge with `peer` (or names it as the other end). */
export function involves(record: PaymentRecord, peer: AccountRef): boolean {
  return [record.upstream, record.downstream, record.counterpart].some((ref) =>
    ref !== null && sameAccount(ref, peer)
  );
}

/**
 * What removing `peers` (and the payments listed) would drop, one line each: balances that
 * are not even, amounts locked, payments in flight. Empty when the removal loses nothing.
 */
export function wouldDrop(
  peers: PeerHolding[],
  inFlight: PaymentRecord[],
  display: DisplayUnit,
): string[] {
  const lines: string[] = [];
  for (const { peer, books } of peers) {
    if (books.balance !== 0n) lines.push(`the balance: ${standing(peer, books.balance, display)}`);
    if (books.lockedIn !== 0n || books.lockedOut !== 0n) {
      lines.push(
        `locked with ${formatAccountRef(peer)}: ${
          formatAmount(books.lockedIn, display)
        } towards us, ${formatAmount(books.lockedOut, display)} towards them`,
      );
    }
  }
  for (const record of inFlight) {
    lines.push(`payment ${record.idHex} in flight (${record.role}, ${record.state})`);
  }
  return lines;
}

/** A peer's books as `--json` prints them: decimal strings in the display unit. */
export function booksJson(holding: PeerHolding, display: DisplayUnit): Record<string, string> {
  const { books } = holding;
  const shown = (amount: bigint) => formatDecimal(amount, display.decimals);
  return {
    peer: formatAccountRef(holding.peer),
    balance: shown(books.balance),
    trustlineOut: shown(books.trustlineOut),
    trustlineIn: shown(books.trustlineIn),
    lockedIn: shown(books.lockedIn),
    lockedOut: shown(books.lockedOut),
  };
}

/** A peer's books in one line for people, with the amounts locked if there are any. */
export function booksLine(holding: PeerHolding, display: DisplayUnit): string {
  const { peer, books } = holding;
  const locked = hasLocks(books) ? `; locked ${lockedText(books, display)}` : "";
  return peerLine(peer, books, display) + locked;
}

function hasLocks(books: Books): boolean {
  return books.lockedIn !== 0n || books.lockedOut !== 0n;
}

function lockedText(books: Books, display: DisplayUnit): string {
  return `${formatAmount(books.lockedIn, display)} towards us, ${
    formatAmount(books.lockedOut, display)
  } towards them`;
}
