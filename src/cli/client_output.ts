/** How `ripple client` words its answers: balances with their sign spelled out, payments with their party and time. */

import { toHex } from "../auth/keys.ts";
import { type DisplayUnit, formatAmount, formatDecimal } from "../client/amounts.ts";
import {
  PAYMENT_ROLES,
  PAYMENT_STATES,
  type PaymentStatus,
  type PaymentSummary,
  type PaymentWait,
} from "../client/commands.ts";
import { type AccountRef, formatAccountRef } from "../wire/names.ts";
import { reasonText } from "../wire/reasons.ts";

/** Prints a result: `human` by default, `json` with `--json`. */
export type Printer = (human: string, json: Record<string, unknown>) => void;

/** Role names by the role code of client commands 7 and 10. */
export const ROLES: readonly string[] = PAYMENT_ROLES;

const FAILED = 7;

/**
 * A balance in words: who owes whom. The books store what the peer owes us, negative when we
 * owe the peer.
 *
 * @example
 * ```ts
 * import { standing } from "./client_output.ts";
 * standing({ username: "bob", address: "b" }, -25n, { unit: "hours", decimals: 0 });
 * // "we owe bob@b 25 hours"
 * ```
 */
export function standing(peer: AccountRef, balance: bigint, display: DisplayUnit): string {
  const who = formatAccountRef(peer);
  if (balance === 0n) return `even with ${who}`;
  return balance > 0n
    ? `${who} owes us ${formatAmount(balance, display)}`
    : `we owe ${who} ${formatAmount(-balance, display)}`;
}

/** The numbers of a peer that every listing shows. */
export interface PeerNumbers {
  balance: bigint;
  trustlineOut: bigint;
  trustlineIn: bigint;
}

/**
 * A peer in one line: who owes whom, and the credit each side extends.
 *
 * @example
 * ```ts
 * import { peerLine } from "./client_output.ts";
 * peerLine({ username: "bob", address: "b" }, { balance: 25n, trustlineOut: 100n, trustlineIn: 0n }, { unit: "", decimals: 0 });
 * // "bob@b owes us 25; we trust them up to 100, they trust us up to 0"
 * ```
 */
export function peerLine(peer: AccountRef, numbers: PeerNumbers, display: DisplayUnit): string {
  return `${standing(peer, numbers.balance, display)}; we trust them up to ${
    formatAmount(numbers.trustlineOut, display)
  }, they trust us up to ${formatAmount(numbers.trustlineIn, display)}`;
}

/** A time as the CLI shows it: ISO 8601 to the second, in UTC. */
export function shownTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.[0-9]+Z$/, "Z");
}

/** The other party of a payment, from this account's side: "to carol@…", "from alice@…". */
function party(role: number, counterpart: AccountRef | null): string {
  if (counterpart === null) return ROLES[role] ?? "";
  return `${role === 2 ? "from" : "to"} ${formatAccountRef(counterpart)}`;
}

/** The fields of one payment in a `payments` list, human and JSON. */
export function paymentListEntry(
  payment: PaymentSummary,
  display: DisplayUnit,
): { human: string; json: Record<string, unknown> } {
  const state = PAYMENT_STATES[payment.state] ?? `state ${payment.state}`;
  const failed = payment.state === FAILED ? ` (${reasonText(payment.reason)})` : "";
  return {
    human: `${shownTime(payment.updatedAt)}  ${state}  ${
      party(payment.role, payment.counterpart)
    }  ${formatAmount(payment.amount, display)}  ${toHex(payment.id)}${failed}`,
    json: {
      id: toHex(payment.id),
      state,
      role: ROLES[payment.role] ?? payment.role,
      counterpart: payment.counterpart === null ? null : formatAccountRef(payment.counterpart),
      amount: formatDecimal(payment.amount, display.decimals),
      reason: payment.state === FAILED ? reasonText(payment.reason) : undefined,
      updatedAt: payment.updatedAt,
    },
  };
}

/**
 * Prints where one payment stands (`payment ID`, `pay --wait`); returns false when it failed
 * or is unknown, for the exit status.
 */
export function printPayment(
  id: Uint8Array,
  status: PaymentStatus,
  display: DisplayUnit,
  print: Printer,
): boolean {
  const state = PAYMENT_STATES[status.state] ?? `state ${status.state}`;
  const role = ROLES[status.role] ?? "";
  const amount = formatAmount(status.amount, display);
  const reason = status.state === FAILED ? reasonText(status.reason) : undefined;
  const human = status.state === 0
    ? `Payment ${toHex(id)} is unknown to this account.`
    : `Payment ${toHex(id)}: ${state}${role ? ` (${role}, ${amount})` : ""}${
      reason ? `: ${reason}` : ""
    }${status.wait === null ? "" : `\n  ${describeWait(status.wait, status.amount, display)}`}${
      status.receipt === null ? "" : `\n  receipt: ${toHex(status.receipt)}`
    }`;
  const wait = status.wait;
  print(human, {
    id: toHex(id),
    state,
    role,
    amount: formatDecimal(status.amount, display.decimals),
    reason,
    updatedAt: status.updatedAt,
    wait: wait === null ? undefined : {
      on: formatAccountRef(wait.on),
      for: wait.kind,
      due: new Date(wait.due).toISOString(),
      overdue: wait.overdue,
      released: formatDecimal(wait.released, display.decimals),
      endsBy: new Date(wait.endsBy).toISOString(),
    },
    receipt: status.receipt === null ? undefined : toHex(status.receipt),
  });
  return status.state !== FAILED && status.state !== 0;
}

/**
 * One line on what a committed payment waits on: whom, since when it costs them, what it has
 * cost so far, and when it ends (docs/protocol.md §9).
 *
 * @example
 * ```ts ignore
 * describeWait(wait, 40n, { unit: "", decimals: 0 });
 * // "overdue: waiting on bob@b.example for its answer since 2026-12-02T10:00:00.000Z; 12 of 40 released so far, at its expense; ends by 2026-12-05T10:00:00.000Z"
 * ```
 */
export function describeWait(wait: PaymentWait, amount: bigint, display: DisplayUnit): string {
  const whom = formatAccountRef(wait.on);
  const due = new Date(wait.due).toISOString();
  const ends = new Date(wait.endsBy).toISOString();
  if (wait.kind === "finalize") {
    return wait.overdue
      ? `overdue: ${whom} has not finalized; it is being claimed`
      : `waiting on ${whom} to finalize; claimed from it at ${due} if it has not`;
  }
  if (!wait.overdue) {
    return `waiting on ${whom} for its answer; from ${due} the wait costs it, ending by ${ends}`;
  }
  return `overdue: waiting on ${whom} for its answer since ${due}; ${
    formatAmount(wait.released, display)
  } of ${formatAmount(amount, display)} released so far, at its expense; ends by ${ends}`;
}
