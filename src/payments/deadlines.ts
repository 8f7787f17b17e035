/**
 * Deadlines after the commit (docs/protocol.md §9): a silent downstream is released in chunks,
 * an upstream that does not finalize an irrevocable payment finds it claimed.
 */

import type { Limits } from "../core/config.ts";
import type { Context, ServerContext } from "../core/context.ts";
import { ServerCommand } from "../wire/commands.ts";
import { Reason } from "../wire/reasons.ts";
import { finalizeEdge, type PaymentRecord, raiseReleased, writePayment } from "./record.ts";
import { sendClaim, sendReleased, sendStep } from "./messages.ts";
import type { PaymentSteps, ReleasedMessage } from "./steps.ts";
import { type AccountRef, formatAccountRef } from "../wire/names.ts";

/** The settings the deadlines run on. */
export type DeadlineLimits = Pick<
  Limits,
  "commitMarginMs" | "releasePeriodMs" | "releaseChunkMs" | "releaseGraceMs" | "lockTimeoutMs"
>;

/**
 * Takes the terms of a commit at `now`: this account's deadline and claim time, the release
 * period, and what it passes down (the deadline a margin shorter, the claim time a margin
 * longer).
 */
export function takeTerms(
  record: PaymentRecord,
  now: number,
  limits: DeadlineLimits,
  terms: { waitMs: number; claimMs: number; releaseMs?: number },
): void {
  record.committedAt = now;
  record.deadline = now + terms.waitMs;
  record.claimAt = now + terms.claimMs;
  record.releaseMs = terms.releaseMs ?? limits.releasePeriodMs;
  record.passWait = terms.waitMs - limits.commitMarginMs;
  record.passClaim = terms.claimMs + limits.commitMarginMs;
}

/**
 * How much of the amount is released towards a silent downstream at `now`: nothing before
 * the deadline, then in steps of one chunk period, all of it from deadline + release period.
 *
 * @example
 * ```ts ignore
 * releaseDue(record, record.deadline + record.releaseMs / 2, limits); // half the amount
 * ```
 */
export function releaseDue(record: PaymentRecord, now: number, limits: DeadlineLimits): bigint {
  if (now < record.deadline) return 0n;
  const period = Math.max(1, record.releaseMs);
  const chunk = Math.max(1, Math.min(limits.releaseChunkMs, period));
  const elapsed = Math.floor((now - record.deadline) / chunk) * chunk;
  if (elapsed >= period) return record.amount;
  return record.amount * BigInt(elapsed) / BigInt(period);
}

/**
 * The most an upstream may have released towards this account by `now`, by this account's
 * own clock: the upstream's deadline falls its wait after its commit, which came after the
 * lock this account took; half a margin and one chunk of slack are allowed for delivery.
 */
function releaseBound(record: PaymentRecord, now: number, limits: DeadlineLimits): bigint {
  if (record.deadline === 0 || record.releaseMs === 0) return 0n;
  // Measured from the lock, which came before the upstream's commit whenever this account
  // took the commit itself: a late commit (this server was down) does not move the bound.
  const lockedAt = record.lockExpires - limits.lockTimeoutMs;
  const start = lockedAt + (record.deadline - record.committedAt) + limits.commitMarginMs / 2;
  if (now < start) return 0n;
  const chunk = BigInt(Math.min(limits.releaseChunkMs, record.releaseMs));
  const elapsed = BigInt(Math.max(0, Math.floor(now - start)));
  const bound = (record.amount * (elapsed + chunk)) / BigInt(record.releaseMs) + 1n;
  return bound > record.amount ? record.amount : bound;
}

/**
 * What an upstream says it released (in a release, a finalize or a settled), taken only up
 * to what it could have released by now; more is logged, and not taken.
 */
export function boundRelease(
  ctx: ServerContext,
  record: PaymentRecord,
  released: bigint,
  limits: DeadlineLimits,
): bigint {
  const bound = releaseBound(record, ctx.now, limits);
  if (released <= bound) return released;
  ctx.log.warn("release-above-bound", {
    account: ctx.username,
    payment: record.idHex.slice(0, 16),
    from: formatAccountRef(ctx.peer),
    released,
    bound,
  });
  return bound;
}

/** A release (143) from the upstream: applied to the in-edge, within the bound. */
export async function onRelease(
  steps: PaymentSteps,
  ctx: ServerContext,
  message: ReleasedMessage,
): Promise<void> {
  const record = await steps.from(ctx, message, "upstream");
  // A release reaches an in-edge still locked, or one this account claimed before the
  // upstream heard of it: the upstream side decides, and is told of the claim again.
  const open = record?.state === "committed" && record.inEdge === "locked";
  if (record === undefined || (!open && !record.claimed)) return;
  await raiseReleased(ctx, record, "in", boundRelease(ctx, record, message.released, steps.limits));
  await writePayment(ctx, record);
  if (record.claimed) sendClaim(ctx, record);
}

/** A claim (144) from the downstream: the payment is irrevocable and the out-edge was taken. */
export async function onClaim(
  steps: PaymentSteps,
  ctx: ServerContext,
  message: ReleasedMessage,
): Promise<void> {
  const record = await steps.from(ctx, message, "downstream");
  if (record === undefined) return;
  if (record.state === "failed") {
    if (record.reason !== Reason.Released) {
      ctx.log.error("claim-after-abort", {
        account: ctx.username,
        payment: record.idHex.slice(0, 16),
        from: formatAccountRef(ctx.peer),
      });
    }
    // Failed: nothing is owed on the out-edge, whatever was released.
    return sendReleased(ctx, { ...record, releasedOut: record.amount }, "settled");
  }
  if (record.state === "committed") {
    steps.stopRetrying(ctx, record);
    if (!record.irrevocable && record.role === "hop") {
      sendStep(ctx, record.upstream!, ServerCommand.Committed, record);
      ctx.wakeAt(record.claimAt);
    }
    record.irrevocable = true;
    await finalizeEdge(ctx, record, "out");
    if (record.role === "buyer") {
      record.state = "completed";
      ctx.log.info("payment-completed", {
        account: ctx.username,
        payment: record.idHex.slice(0, 16),
        amount: record.amount,
        role: record.role,
      });
    }
    await writePayment(ctx, record);
  } else if (record.state !== "finalizing" && record.state !== "completed") {
    return;
  }
  sendReleased(ctx, record, "settled");
}

/** Settled (145) from the upstream: its answer to our claim, with what it released in the end. */
export async function onSettled(
  steps: PaymentSteps,
  ctx: ServerContext,
  message: ReleasedMessage,
): Promise<void> {
  const record = await steps.from(ctx, message, "upstream");
  if (record?.claimed) {
    await settleClaim(ctx, record, boundRelease(ctx, record, message.released, steps.limits));
  }
}

/**
 * The upstream's last word on a claimed in-edge: if it released more than this account had
 * seen when it claimed, the balance takes the difference (the claim came late).
 */
export async function settleClaim(
  ctx: Context,
  record: PaymentRecord,
  released: bigint,
): Promise<void> {
  await raiseReleased(ctx, record, "in", released);
  record.claimed = false;
  await writePayment(ctx, record);
}

/**
 * The timer of a committed payment this account waits on its downstream for: past the
 * deadline, and once the server has run for the grace period, raise the release; at the
 * whole amount, fail (reason 13) and tell the upstream. Returns when to look again, or null
 * when the payment has ended.
 */
export async function releaseSilent(
  steps: PaymentSteps,
  ctx: Context,
  record: PaymentRecord,
): Promise<number | null> {
  const limits = steps.limits;
  const graceEnds = steps.bootedAt(ctx.now) + limits.releaseGraceMs;
  if (ctx.now < record.deadline) return record.deadline;
  if (ctx.now < graceEnds) return graceEnds;
  const due = releaseDue(record, ctx.now, limits);
  if (due > record.releasedOut) {
    await raiseReleased(ctx, record, "out", due);
    ctx.log.warn("payment-released", {
      account: ctx.username,
      payment: record.idHex.slice(0, 16),
      waiting_on: formatAccountRef(record.downstream!),
      released: record.releasedOut,
      amount: record.amount,
    });
    if (record.releasedOut === record.amount) {
      await steps.fail(ctx, record, Reason.Released);
      return null;
    }
    await writePayment(ctx, record);
    sendReleased(ctx, record, "release");
  }
  const chunk = Math.max(1, Math.min(limits.releaseChunkMs, record.releaseMs));
  return ctx.now + chunk - ((ctx.now - record.deadline) % chunk);
}

/**
 * The timer of an irrevocable payment this account waits on its upstream's finalize for: at
 * the claim time, take the in-edge and finalize on. Returns when to look again, or null.
 */
export async function claimIfDue(
  steps: PaymentSteps,
  ctx: Context,
  record: PaymentRecord,
): Promise<number | null> {
  if (record.inEdge !== "locked") return null;
  if (ctx.now < record.claimAt) return record.claimAt;
  await finalizeEdge(ctx, record, "in");
  record.claimed = true;
  ctx.log.warn("payment-claimed", {
    account: ctx.username,
    payment: record.idHex.slice(0, 16),
    from: formatAccountRef(record.upstream!),
    released: record.releasedIn,
    amount: record.amount,
  });
  sendClaim(ctx, record);
  await steps.passFinalize(ctx, record);
  return null;
}

/** What a payment in flight waits on after its commit, for people (client 7, `ripple status`). */
export interface Wait {
  /** The neighbour it waits on. */
  on: AccountRef;
  /** `answer`: the downstream's committed or abort; `finalize`: the upstream's finalize. */
  kind: "answer" | "finalize";
  /** From when the wait costs the neighbour: the deadline, or the claim time. */
  due: number;
  overdue: boolean;
  /** Released towards the downstream so far: what the wait has cost the one holding it up. */
  released: bigint;
  /** When the payment ends at the latest, by this account's own timers. */
  endsBy: number;
}

/**
 * What `record` waits on at `now`, or null when it waits on nobody past its commit (before
 * the commit the lock's expiry bounds it; after the last step nothing is left).
 *
 * @example
 * ```ts ignore
 * waitOf(record, Date.now())?.overdue; // true once the deadline has passed
 * ```
 */
export function waitOf(record: PaymentRecord, now: number): Wait | null {
  if (record.state !== "committed" || record.deadline === 0) return null;
  if (!record.irrevocable && record.role !== "seller") {
    return {
      on: record.downstream!,
      kind: "answer",
      due: record.deadline,
      overdue: now >= record.deadline,
      released: record.releasedOut,
      endsBy: record.deadline + record.releaseMs,
    };
  }
  if (record.inEdge !== "locked") return null;
  return {
    on: record.upstream!,
    kind: "finalize",
    due: record.claimAt,
    overdue: now >= record.claimAt,
    released: record.releasedIn,
    endsBy: record.claimAt,
  };
}
