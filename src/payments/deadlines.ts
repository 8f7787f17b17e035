/**
 * Deadlines after the commit (docs/protocol.md §9): a silent downstream is released in chunks,
 * an upstream that does not finalize an irrevocable payment finds it claimed.
 */

import type { Limits } from "../core/config.ts";
import type { Context, ServerContext } from "../core/context.ts";
import { Reason } from "../wire/reasons.ts";
import { toHex } from "../auth/keys.ts";
import {
  finalizeEdge,
  type PaymentRecord,
  raiseReleased,
  readPayment,
  writePayment,
} from "./record.ts";
import { sendClaim, sendCommitted, sendReleased } from "./messages.ts";
import type { CommittedMessage, PaymentSteps, ReleasedMessage } from "./steps.ts";
import { type AccountRef, formatAccountRef, sameAccount } from "../wire/names.ts";

/** The settings the deadlines run on. */
export type DeadlineLimits = Pick<
  Limits,
  | "commitDeadlineMs"
  | "commitMarginMs"
  | "releasePeriodMs"
  | "releaseChunkMs"
  | "releaseGraceMs"
  | "lockTimeoutMs"
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
 * Gives a committed record from before the deadlines (no terms stored) the terms this server
 * would carry itself, counted from its commit; other records are left as they are.
 */
export function ensureTerms(record: PaymentRecord, limits: DeadlineLimits): PaymentRecord {
  const committed = record.state === "committed" || record.state === "finalizing";
  if (committed && record.deadline === 0 && record.committedAt > 0) {
    const wait = limits.commitDeadlineMs;
    takeTerms(record, record.committedAt, limits, { waitMs: wait, claimMs: wait / 2 });
  }
  return record;
}

/** The shortest release period a commit may carry. */
const MIN_RELEASE_MS = 1_000;

/**
 * Whether this account takes a commit's terms: a hop needs room between its deadline and
 * the next account's claim time (two margins); and no account holds a payment for longer
 * than twice what it would ask itself, nor releases in less than a second (§9).
 */
export function termsAcceptable(
  terms: { waitMs: number; claimMs: number; releaseMs: number },
  role: "buyer" | "seller" | "hop",
  limits: Pick<Limits, "commitDeadlineMs" | "commitMarginMs" | "releasePeriodMs">,
): boolean {
  const room = role === "seller" ? 0 : 2 * limits.commitMarginMs;
  return terms.waitMs - terms.claimMs >= room && terms.claimMs >= 0 &&
    terms.waitMs <= 2 * limits.commitDeadlineMs &&
    terms.releaseMs >= MIN_RELEASE_MS && terms.releaseMs <= 2 * limits.releasePeriodMs;
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
  if (now - record.deadline >= period) return record.amount;
  const chunk = Math.max(1, Math.min(limits.releaseChunkMs, period));
  const elapsed = Math.floor((now - record.deadline) / chunk) * chunk;
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
  // Once the upstream's server has taken this account's claim, what the upstream could have
  // released by then is all it can still say it released: a late answer cannot take the
  // claim back. A claim not known to have arrived leaves the upstream's releases standing.
  const delivered = record.claimed && record.claimDelivered > 0;
  const at = delivered ? Math.min(ctx.now, record.claimDelivered + limits.commitMarginMs) : ctx.now;
  const bound = releaseBound(record, at, limits);
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
  const open = (record?.state === "committed" || record?.state === "finalizing") &&
    record.inEdge === "locked";
  if (record === undefined || (!open && !record.claimed)) return;
  await raiseReleased(ctx, record, "in", boundRelease(ctx, record, message.released, steps.limits));
  if (open && (await passReleaseOn(steps, ctx, record))) return;
  await writePayment(ctx, record);
  if (record.claimed) sendClaim(ctx, record);
}

/**
 * A hop that waits on its downstream never lets its upstream's release get ahead of its own
 * towards the downstream, whatever their chunks and timers (and a hostile upstream's slack
 * within the bound): it releases as much, at once. Not in the grace after a restart: then
 * the hop itself was the silent one. True if that ended the payment.
 */
async function passReleaseOn(
  steps: PaymentSteps,
  ctx: Context,
  record: PaymentRecord,
): Promise<boolean> {
  const waiting = record.role === "hop" && !record.irrevocable;
  const inGrace = ctx.now < steps.bootedAt(ctx.now) + steps.limits.releaseGraceMs;
  if (!waiting || inGrace || record.releasedOut >= record.releasedIn) return false;
  await raiseReleased(ctx, record, "out", record.releasedIn);
  if (record.releasedOut === record.amount) {
    await steps.fail(ctx, record, Reason.Released);
    return true;
  }
  await writePayment(ctx, record);
  sendReleased(ctx, record, "release");
  return false;
}

/** A claim (144) from the downstream: the payment is irrevocable and the out-edge was taken. */
export async function onClaim(
  steps: PaymentSteps,
  ctx: ServerContext,
  message: ReleasedMessage & CommittedMessage,
): Promise<void> {
  const record = await steps.from(ctx, message, "downstream");
  if (record === undefined) return;
  // A claim says the payment is irrevocable: it needs the receipt as committed does (§6).
  if (!steps.believes(ctx, record, message.secret)) return;
  steps.heldUp.heard(ctx.username, ctx.peer, record.idHex, "decisive");
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
      sendCommitted(ctx, record.upstream!, record);
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
  } else if (record.state === "finalizing" && record.inEdge === "locked") {
    // A hop that finalized down at once (§6): the claim answers that finalize.
    steps.stopRetrying(ctx, record);
    record.state = "committed";
    await writePayment(ctx, record);
    ctx.wakeAt(record.claimAt);
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
  const own = releaseDue(record, ctx.now, limits);
  const due = own > record.releasedIn ? own : record.releasedIn;
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
  record.claimedAt = ctx.now;
  ctx.log.warn("payment-claimed", {
    account: ctx.username,
    payment: record.idHex.slice(0, 16),
    from: formatAccountRef(record.upstream!),
    released: record.releasedIn,
    amount: record.amount,
  });
  sendClaim(ctx, record);
  await steps.passFinalize(ctx, record);
  // The claim is resent until it is answered (resendClaim), whatever passFinalize asked for.
  steps.retryLater(ctx, record, false, true);
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
  const finalizedDown = record.state === "finalizing" && record.inEdge === "locked";
  if ((record.state !== "committed" && !finalizedDown) || record.deadline === 0) return null;
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

/** When an account stops resending a claim nobody answered (§9). */
export function claimGivenUpAt(
  record: PaymentRecord,
  limits: Pick<Limits, "commitMarginMs">,
): number {
  return Math.max(record.claimedAt, record.deadline) + 2 * record.releaseMs +
    2 * limits.commitMarginMs;
}

/**
 * The timer of a claim whose answer has not come: resend it, backing off, until the upstream
 * has had its whole release period and one more; then give up waiting (the upstream gets it
 * again whenever it next writes).
 */
export async function resendClaim(
  steps: PaymentSteps,
  ctx: Context,
  record: PaymentRecord,
): Promise<void> {
  // The upstream has had its deadline (a margin after ours) and its whole release, and then
  // a release period more to answer what it finds waiting when it comes back.
  const lastWord = claimGivenUpAt(record, steps.limits);
  if (ctx.now >= lastWord) {
    record.claimed = false;
    await writePayment(ctx, record);
    return;
  }
  sendClaim(ctx, record);
  steps.retryLater(ctx, record, false, true);
}

/** The upstream's server took this account's claim: from then on it is bound by it. */
export async function claimDelivered(
  ctx: Context,
  upstream: AccountRef,
  message: { id: Uint8Array; amount: bigint },
): Promise<void> {
  const record = await readPayment(ctx.tx, ctx.username, toHex(message.id));
  if (!record?.claimed || record.claimDelivered > 0 || !sameAccount(record.upstream, upstream)) {
    return;
  }
  record.claimDelivered = ctx.now;
  await writePayment(ctx, record);
}
