/** What the wallet says, in words: who owes whom, where a payment stands, what went wrong. */

import { AuthenticationError, ClientError } from "../client/client.ts";
import { isFinalState, PAYMENT_ROLES, PAYMENT_STATES } from "../client/commands.ts";
import { Status, statusName } from "../wire/response.ts";
import { reasonText } from "../wire/reasons.ts";
import { type DisplayUnit, formatAmount } from "../client/amounts.ts";

/**
 * The balance with a peer as a sentence: positive means the peer owes us.
 *
 * @example
 * ```ts
 * import { standing } from "./words.ts";
 * const hours = { unit: "hours", decimals: 2 };
 * standing(-2500n, "bob@127.0.0.3", hours); // "You owe bob@127.0.0.3 25.00 hours"
 * standing(2500n, "bob@127.0.0.3", hours); // "bob@127.0.0.3 owes you 25.00 hours"
 * ```
 */
export function standing(balance: bigint, peer: string, display: DisplayUnit): string {
  if (balance === 0n) return "Even: neither owes the other";
  return balance > 0n
    ? `${peer} owes you ${formatAmount(balance, display)}`
    : `You owe ${peer} ${formatAmount(-balance, display)}`;
}

/** Where a payment stands, as the payments list and the payment page show it. */
export interface PaymentWords {
  state: string;
  role: string;
  /** Why it failed, in words; empty unless it failed. */
  reason: string;
  final: boolean;
}

/**
 * The words for a payment's state, role and failure reason codes.
 *
 * @example
 * ```ts
 * import { paymentWords } from "./words.ts";
 * paymentWords({ state: 7, role: 1, reason: 1 }).reason; // "no path with enough credit from buyer to seller"
 * ```
 */
export function paymentWords(
  status: { state: number; role: number; reason: number },
): PaymentWords {
  return {
    state: PAYMENT_STATES[status.state] ?? `state ${status.state}`,
    role: PAYMENT_ROLES[status.role] ?? "",
    reason: status.state === 7 ? reasonText(status.reason) : "",
    final: isFinalState(status.state),
  };
}

/**
 * What went wrong, for a member rather than a programmer.
 *
 * @example
 * ```ts
 * import { ClientError } from "../client/client.ts";
 * import { errorText } from "./words.ts";
 * errorText(new ClientError(4, "")); // "That account is not one of your peers."
 * ```
 */
export function errorText(error: unknown): string {
  if (error instanceof ClientError) {
    switch (error.status) {
      case Status.Unauthorized:
        return "The server does not know this account with this key.";
      case Status.UnknownPeer:
        return "That account is not one of your peers.";
      case Status.Busy:
        return "The server is busy; try again in a moment.";
      case Status.InternalError:
        return "The server failed to store the change; tell its operator.";
      default:
        return sentence(`The server refused: ${error.detail || statusName(error.status)}`);
    }
  }
  if (error instanceof AuthenticationError) {
    return "The server's answer was not signed with your key; it cannot be trusted.";
  }
  if (
    error instanceof TypeError || (error instanceof DOMException && error.name === "TimeoutError")
  ) {
    return "The server cannot be reached; check the connection and try again.";
  }
  return sentence(error instanceof Error ? error.message : String(error));
}

/** A message as a sentence: a capital first letter and a full stop. */
function sentence(text: string): string {
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
