/** An account's books with one peer: the two trustlines, the balance, and the amounts locked by payments in flight. */

import type { PeerLimits } from "../core/config.ts";
import type { AccountRef } from "../wire/names.ts";
import { peerPath } from "./paths.ts";
import type { Tx } from "./tx.ts";

/** The numbers of one side of a peer pair, as that side stores them. */
export interface Books {
  /** How much the peer may owe us (our trustline to the peer). */
  trustlineOut: bigint;
  /** How much we may owe the peer (the peer's trustline to us). */
  trustlineIn: bigint;
  /** What the peer owes us; negative when we owe the peer. */
  balance: bigint;
  /** Payments in flight from the peer to us. */
  lockedIn: bigint;
  /** Payments in flight from us to the peer. */
  lockedOut: bigint;
}

/** Reads the books of `username` with `peer`; missing files count as zero. */
export async function readBooks(tx: Tx, username: string, peer: AccountRef): Promise<Books> {
  return {
    trustlineOut: await tx.getBigint(peerPath(username, peer, "trustline_out.txt")),
    trustlineIn: await tx.getBigint(peerPath(username, peer, "trustline_in.txt")),
    balance: await tx.getBigint(peerPath(username, peer, "balance.txt")),
    lockedIn: await tx.getBigint(peerPath(username, peer, "locked_in.txt")),
    lockedOut: await tx.getBigint(peerPath(username, peer, "locked_out.txt")),
  };
}

/**
 * How much more we can pay the peer: our debt may grow up to the peer's trustline to us,
 * counting what we have locked towards the peer already. Payments still locked towards
 * us are not counted, since they may yet fail.
 *
 * @example
 * ```ts
 * import { payable } from "./books.ts";
 * payable({ trustlineOut: 0n, trustlineIn: 100n, balance: -30n, lockedIn: 5n, lockedOut: 20n }); // 50n
 * ```
 */
export function payable(books: Books): bigint {
  return books.trustlineIn + books.balance - books.lockedOut;
}

/**
 * How much more the peer can pay us: the peer's debt may grow up to our trustline to the
 * peer, counting what is locked towards us already.
 *
 * @example
 * ```ts
 * import { receivable } from "./books.ts";
 * receivable({ trustlineOut: 100n, trustlineIn: 0n, balance: 30n, lockedIn: 20n, lockedOut: 0n }); // 50n
 * ```
 */
export function receivable(books: Books): bigint {
  return books.trustlineOut - books.balance - books.lockedIn;
}

/**
 * How much more we can pay the peer on behalf of another account (a payment passing
 * through): within {@linkcode payable}, and while the locks towards the peer stay within
 * `sharePercent` of its trustline to us (docs/protocol.md §8); 100 or more: no share.
 *
 * @example
 * ```ts
 * import { transitPayable } from "./books.ts";
 * transitPayable({ trustlineOut: 0n, trustlineIn: 100n, balance: 0n, lockedIn: 0n, lockedOut: 20n }, 50); // 30n
 * ```
 */
export function transitPayable(books: Books, sharePercent: number): bigint {
  if (noCap(sharePercent)) return payable(books);
  const room = lockCap(books.trustlineIn, sharePercent) - books.lockedOut;
  return room < payable(books) ? room : payable(books);
}

/** Like {@linkcode transitPayable}, for a payment from the peer passing through us. */
export function transitReceivable(books: Books, sharePercent: number): bigint {
  if (noCap(sharePercent)) return receivable(books);
  const room = lockCap(books.trustlineOut, sharePercent) - books.lockedIn;
  return room < receivable(books) ? room : receivable(books);
}

/**
 * The most that locks passing through may hold on an edge with trustline `trustline`.
 *
 * @example
 * ```ts
 * import { lockCap } from "./books.ts";
 * lockCap(1001n, 50); // 500n
 * ```
 */
export function lockCap(trustline: bigint, sharePercent: number): bigint {
  return trustline * BigInt(sharePercent) / 100n;
}

/** A share of 100% or more turns the limit off: what the edge can carry is the only bound. */
function noCap(sharePercent: number): boolean {
  return sharePercent >= 100;
}

/** Which of the peer's numbers an entry changes; `in_flight` counts payments in flight with the peer. */
export type BooksEntry = "balance" | "locked_in" | "locked_out" | "in_flight";

/** How many payments in flight at `username` have `peer` as their upstream or downstream. */
export function readInFlight(tx: Tx, username: string, peer: AccountRef): Promise<number> {
  return tx.getNumber(peerPath(username, peer, "in_flight.txt"));
}

/** Adds `delta` to one of the numbers kept with `peer`. */
export async function addToBooks(
  tx: Tx,
  username: string,
  peer: AccountRef,
  entry: BooksEntry,
  delta: bigint,
): Promise<void> {
  const path = peerPath(username, peer, `${entry}.txt`);
  const value = (await tx.getBigint(path)) + delta;
  if (entry !== "balance" && value < 0n) throw new Error(`${path} would become negative`);
  tx.setNumber(path, value);
}

/**
 * Payments a neighbour holds up at an account (§8): after the commit without a word, and
 * with only _waiting_; before it, locks left without _locked_ or _abort_ (`slow`).
 */
export interface HeldUpCounts {
  silent: number;
  waiting: number;
  slow: number;
}

/**
 * Which per-neighbour limit (docs/protocol.md §8), if any, stops a payment of `amount`
 * passing through from using the edge with `peer`: its payments in flight, the share of
 * the trustline that locks on that edge may hold (`in`: ours to the peer; `out`: its to us),
 * or, towards the peer (`out`), the payments it holds up (`heldUp` of them now, silently
 * against `peerHeldUp` and waiting against `peerWaiting`) or its locks slow to answer
 * (against `peerSlowLocks`).
 * The path search and the lock both ask this, so the search finds what the lock will take.
 */
export async function transitLimit(
  tx: Tx,
  username: string,
  peer: AccountRef,
  books: Books,
  side: "in" | "out",
  amount: bigint,
  limits: Pick<
    PeerLimits,
    "peerPaymentsInFlight" | "peerLockSharePercent" | "peerHeldUp" | "peerWaiting" | "peerSlowLocks"
  >,
  heldUp: HeldUpCounts = { silent: 0, waiting: 0, slow: 0 },
): Promise<"payments" | "credit" | "held-up" | "slow-locks" | null> {
  if ((await readInFlight(tx, username, peer)) >= limits.peerPaymentsInFlight) return "payments";
  if (side === "out" && holdsUp(heldUp, limits)) return "held-up";
  if (side === "out" && limits.peerSlowLocks > 0 && heldUp.slow >= limits.peerSlowLocks) {
    return "slow-locks";
  }
  const share = limits.peerLockSharePercent;
  const room = side === "in" ? transitReceivable(books, share) : transitPayable(books, share);
  return room < amount ? "credit" : null;
}

/** Whether a neighbour holds up as many payments as it may (a limit of 0 is off). */
function holdsUp(held: HeldUpCounts, limits: Pick<PeerLimits, "peerHeldUp" | "peerWaiting">) {
  return (limits.peerHeldUp > 0 && held.silent >= limits.peerHeldUp) ||
    (limits.peerWaiting > 0 && held.waiting >= limits.peerWaiting);
}
