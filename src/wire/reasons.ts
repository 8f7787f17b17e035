/** Why a payment failed: the `reason` byte of get payment (client 7) and of abort (server 141), with its words. */

/** The failure reason codes. */
export const Reason = {
  None: 0,
  NoPath: 1,
  SearchTimeout: 2,
  NoCredit: 3,
  LockExpired: 4,
  Aborted: 5,
  Restarted: 6,
  NoRoute: 7,
  CommitMissing: 8,
  PeerPaymentsLimit: 9,
  PeerCreditLimit: 10,
  PeerLimits: 11,
  DeadlineTooShort: 12,
  Released: 13,
  PeerHoldsUp: 14,
  NoReceipt: 15,
  NoPathWithinHops: 20,
} as const;

/** A failure {@linkcode Reason} code. */
export type ReasonCode = (typeof Reason)[keyof typeof Reason];

const REASON_TEXT: Record<number, string> = {
  [Reason.None]: "",
  // The buyer's server cannot tell an id no seller announced from a path without credit.
  [Reason.NoPath]:
    "no path with enough credit from buyer to seller (check that the seller's receive came first, with this payment id and amount, and that the trustlines on the way have room)",
  [Reason.SearchTimeout]:
    "the search or the wait for the lock timed out (has the other side started its part?)",
  [Reason.NoCredit]: "not enough credit on the path when locking",
  [Reason.LockExpired]: "a lock expired before the payment was committed",
  [Reason.Aborted]: "aborted by a neighbour on the path",
  [Reason.Restarted]: "the server restarted during the search",
  [Reason.NoRoute]: "the lock took a route no search had prepared",
  [Reason.CommitMissing]: "the commit never reached the next account",
  [Reason.PeerPaymentsLimit]: "a neighbour on the path is at its limit for payments in flight",
  [Reason.PeerCreditLimit]:
    "an account on the path already holds as much credit in locks with a neighbour as it allows",
  [Reason.PeerLimits]:
    "no path within the limits accounts on the way set for each neighbour (payments in flight, credit held in locks, searches, payments held up)",
  [Reason.DeadlineTooShort]:
    "the deadlines carried with the commit do not suit an account on the path (too short for the path, or longer than it accepts)",
  [Reason.Released]:
    "the next account did not answer within the deadline, so the payment was released",
  [Reason.PeerHoldsUp]:
    "a neighbour on the path is holding up another payment (it left a commit unanswered), so no payment passes through towards it",
  [Reason.NoReceipt]:
    "the buyer asked for the seller's receipt, but the seller's side of the payment has none (its id was not made from a receipt secret)",
  [Reason.NoPathWithinHops]:
    "no path with enough credit within the search's hop limit (twice max_depth): the buyer's side explored everything that near without meeting the seller's",
};

/**
 * The code itself if it is one this server knows, else `fallback`: a neighbour's reason
 * is passed on, but only as one of ours.
 *
 * @example
 * ```ts
 * import { knownReason, Reason } from "./reasons.ts";
 * knownReason(Reason.NoCredit, Reason.Aborted); // 3
 * knownReason(200, Reason.Aborted); // 5
 * ```
 */
export function knownReason(code: number, fallback: ReasonCode): ReasonCode {
  return code !== Reason.None && Object.hasOwn(REASON_TEXT, code) ? code as ReasonCode : fallback;
}

/**
 * What a failure reason code means, in words for people (logs, the CLI, the web wallet).
 *
 * @example
 * ```ts
 * import { Reason, reasonText } from "./reasons.ts";
 * reasonText(Reason.LockExpired); // "a lock expired before the payment was committed"
 * reasonText(200); // "reason 200"
 * ```
 */
export function reasonText(reason: number): string {
  return REASON_TEXT[reason] ?? `reason ${reason}`;
}
