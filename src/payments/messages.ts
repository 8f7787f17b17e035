/** The payment messages an account sends, built from its record, and its log lines about a payment. */

import type { Context } from "../core/context.ts";
import type { Logger } from "../core/log.ts";
import {
  abortArgs,
  claimArgs,
  commitArgs,
  committedArgs,
  paymentArgs,
  releasedArgs,
} from "../wire/arguments.ts";
import { ServerCommand } from "../wire/commands.ts";
import type { AccountRef } from "../wire/names.ts";
import type { PaymentRecord } from "./record.ts";
import { secretField } from "../auth/receipts.ts";

/** What every payment message carries. */
export interface StepMessage {
  id: Uint8Array;
  amount: bigint;
}

/** A step that carries only the payment: lock, locked, query, waiting, finalized. */
export function sendStep(ctx: Context, to: AccountRef, command: number, record: StepMessage): void {
  ctx.send(to, command, paymentArgs.encode({ id: record.id, amount: record.amount }));
}

/** Committed up, with the seller's receipt secret when this account knows it (§6). */
export function sendCommitted(ctx: Context, to: AccountRef, record: PaymentRecord): void {
  ctx.send(
    to,
    ServerCommand.Committed,
    committedArgs.encode({
      id: record.id,
      amount: record.amount,
      secret: secretField(record.secret),
    }),
  );
}

/** An abort, with why. */
export function sendAbort(ctx: Context, to: AccountRef, record: StepMessage, reason: number): void {
  ctx.send(
    to,
    ServerCommand.Abort,
    abortArgs.encode({ id: record.id, amount: record.amount, reason }),
  );
}

/** The commit down, with the terms this account passes on (docs/protocol.md §9). */
export function sendCommit(ctx: Context, record: PaymentRecord): void {
  ctx.send(
    record.downstream!,
    ServerCommand.Commit,
    commitArgs.encode({
      id: record.id,
      amount: record.amount,
      waitMs: BigInt(record.passWait),
      claimMs: BigInt(record.passClaim),
      releaseMs: BigInt(record.releaseMs),
      receipt: record.receipt ? 1 : 0,
    }),
  );
}

/**
 * A message down carrying what this account released on its out-edge: finalize, release,
 * or settled (the answer to the downstream's claim).
 */
export function sendReleased(
  ctx: Context,
  record: PaymentRecord,
  kind: "finalize" | "release" | "settled",
): void {
  const command = kind === "finalize"
    ? ServerCommand.Finalize
    : kind === "release"
    ? ServerCommand.Release
    : ServerCommand.Settled;
  const args = releasedArgs.encode({
    id: record.id,
    amount: record.amount,
    released: record.releasedOut,
  });
  ctx.send(record.downstream!, command, args);
}

/**
 * A claim up: the in-edge was taken, at the amount less what the upstream released so far;
 * with the seller's receipt secret when this account knows it (§6).
 */
export function sendClaim(ctx: Context, record: PaymentRecord): void {
  const args = claimArgs.encode({
    id: record.id,
    amount: record.amount,
    released: record.releasedIn,
    secret: secretField(record.secret),
  });
  ctx.send(record.upstream!, ServerCommand.Claim, args);
}

/** A log line about one payment of one account. */
export function logPayment(
  logger: Logger,
  event: string,
  ctx: Context,
  idHex: string,
  fields: Record<string, string | number | bigint>,
  level: "info" | "warn" | "error" = "info",
): void {
  logger[level](event, { account: ctx.username, payment: idHex.slice(0, 16), ...fields });
}
