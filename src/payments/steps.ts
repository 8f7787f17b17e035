/**
 * The three steps of a payment down its path (lock, commit, finalize), the answers back up,
 * and aborts. Every handler changes at most one record and the books it touches.
 */

import { type Limits, type PeerLimits, peerLimitsFor, retryDelay } from "../core/config.ts";
import type { Context, ServerContext } from "../core/context.ts";
import type { SearchEngine } from "../paths/search.ts";
import { payable, readBooks, receivable, transitLimit } from "../store/books.ts";
import { ServerCommand } from "../wire/commands.ts";
import { type AccountRef, formatAccountRef, sameAccount } from "../wire/names.ts";
import { toHex } from "../auth/keys.ts";
import { knownReason, reasonText } from "../wire/reasons.ts";
import { HeldUp } from "./held_up.ts";
import { boundRelease, ensureTerms, settleClaim, takeTerms, termsAcceptable } from "./deadlines.ts";
import {
  logPayment,
  sendAbort,
  sendClaim,
  sendCommit,
  sendCommitted,
  sendReleased,
  sendStep,
  type StepMessage,
} from "./messages.ts";
import { proves } from "../auth/receipts.ts";
import {
  finalizeEdge,
  lockEdge,
  newPayment,
  type PaymentRecord,
  raiseReleased,
  readPayment,
  Reason,
  type ReasonCode,
  releaseEdges,
  writePayment,
} from "./record.ts";

/** Time-outs of the commit. */
export type StepLimits = Pick<
  Limits,
  | "lockTimeoutMs"
  | "commitQueryMs"
  | "heldUpAfterMs"
  | "waitingAfterMs"
  | "slowLockAfterMs"
  | "stepRetryBaseMs"
  | "stepRetryMaxMs"
  | "searchTimeoutMs"
  | "commitDeadlineMs"
  | "commitMarginMs"
  | "releasePeriodMs"
  | "releaseChunkMs"
  | "releaseGraceMs"
  | "queryRetryMaxMs"
  | keyof PeerLimits
  | "peerOverrides"
>;

export type { StepMessage } from "./messages.ts";

/** A commit's arguments: the step, and the terms the receiver measures from its arrival. */
export interface CommitMessage extends StepMessage {
  waitMs: number;
  claimMs: number;
  releaseMs: number;
  /** 1: the accounts above demand the seller's receipt (§6). */
  receipt: number;
}

/** Committed, or a claim: the step and the seller's receipt secret (zeros: none; §6). */
export interface CommittedMessage extends StepMessage {
  secret: Uint8Array;
}

/** A finalize, release, claim or settled: the step and what is released on the edge. */
export interface ReleasedMessage extends StepMessage {
  released: bigint;
}

/** The three-step commit, shared by the server handlers, the timers and the client commands. */
export class PaymentSteps {
  readonly engine: SearchEngine;
  readonly limits: StepLimits;
  /** Neighbours that leave commits without a word: they hold payments up (§8). */
  readonly heldUp: HeldUp;
  #random: () => number;
  #attempts = new Map<string, { attempt: number; at: number }>();

  #bootedAt: number | null = null;

  constructor(
    engine: SearchEngine,
    limits: StepLimits,
    random: () => number,
    heldUp = new HeldUp(limits),
  ) {
    this.engine = engine;
    this.limits = limits;
    this.heldUp = heldUp;
    this.#random = random;
  }

  /** When this server's current life began, as the first handler run saw the clock. */
  bootedAt(now: number): number {
    return this.#bootedAt ??= now;
  }

  /**
   * When the record's next resend is due, if that is still ahead: an account's timer also
   * runs when another of its records or features asked for it, and that must neither resend
   * early nor advance the back-off. Null when a resend is due now (or none was asked for in
   * this server's life, as after a restart).
   */
  resendAhead(ctx: Context, record: PaymentRecord): number | null {
    const at = this.#attempts.get(key(ctx, record))?.at;
    return at !== undefined && at > ctx.now ? at : null;
  }

  /** Forgets the back-off of a record's resends: its step was answered. */
  stopRetrying(ctx: Context, record: PaymentRecord): void {
    this.#attempts.delete(key(ctx, record));
  }

  /** The buyer's path is found: lock towards `downstream` (step 1). */
  async startLock(ctx: Context, record: PaymentRecord, downstream: AccountRef): Promise<void> {
    record.downstream = downstream;
    if (payable(await readBooks(ctx.tx, ctx.username, downstream)) < record.amount) {
      return this.fail(ctx, record, Reason.NoCredit);
    }
    await lockEdge(ctx, record, "out");
    record.state = "locking";
    record.lockExpires = ctx.now + this.limits.lockTimeoutMs;
    await writePayment(ctx, record);
    sendStep(ctx, downstream, ServerCommand.Lock, record);
    this.heldUp.lockSent(ctx.username, downstream, record.idHex, ctx.now);
    this.retryLater(ctx, record, true);
  }

  async onLock(ctx: ServerContext, message: StepMessage): Promise<void> {
    const idHex = toHex(message.id);
    const from = ctx.peer;
    const record = await readPayment(ctx.tx, ctx.username, idHex);
    const refuse = (reason: ReasonCode, why: string) => {
      logPayment(ctx.log, "lock-refused", ctx, idHex, { from: formatAccountRef(from), why });
      sendAbort(ctx, from, message, reason);
    };
    if (record?.role === "seller" && (record.state === "searching" || record.state === "found")) {
      if (record.amount !== message.amount) return refuse(Reason.NoRoute, "amount differs");
      if (receivable(await readBooks(ctx.tx, ctx.username, from)) < message.amount) {
        return refuse(Reason.NoCredit, "not enough credit");
      }
      record.upstream = from;
      await lockEdge(ctx, record, "in");
      record.state = "locked";
      record.lockExpires = ctx.now + this.limits.lockTimeoutMs;
      await writePayment(ctx, record);
      this.engine.end(ctx, idHex, [from]);
      sendStep(ctx, from, ServerCommand.Locked, record);
      ctx.wakeAt(record.lockExpires);
      return;
    }
    if (record !== undefined) {
      if (!sameAccount(record.upstream, from) || record.amount !== message.amount) {
        return refuse(Reason.NoRoute, "not on this payment's path");
      }
      if (record.state === "failed") sendAbort(ctx, from, record, record.reason);
      else if (record.state !== "locking") sendStep(ctx, from, ServerCommand.Locked, record);
      return;
    }
    const downstream = this.engine.route(ctx.username, idHex, from);
    const search = this.engine.table.get(ctx.username, idHex);
    if (!downstream || search?.amount !== message.amount) {
      return refuse(Reason.NoRoute, "no search leads through here");
    }
    const upBooks = await readBooks(ctx.tx, ctx.username, from);
    const downBooks = await readBooks(ctx.tx, ctx.username, downstream);
    if (receivable(upBooks) < message.amount || payable(downBooks) < message.amount) {
      return refuse(Reason.NoCredit, "not enough credit");
    }
    for (
      const [peer, books, side] of [[from, upBooks, "in"], [downstream, downBooks, "out"]] as const
    ) {
      const limits = peerLimitsFor(this.limits, ctx.username, formatAccountRef(peer));
      const limited = await transitLimit(
        ctx.tx,
        ctx.username,
        peer,
        books,
        side,
        message.amount,
        limits,
        side === "out" ? this.heldUp.count(ctx.username, peer, ctx.now) : undefined,
      );
      if (limited === null) continue;
      logPayment(ctx.log, "lock-refused-limit", ctx, idHex, {
        from: formatAccountRef(from),
        to: formatAccountRef(downstream),
        neighbour: formatAccountRef(peer),
        limit: LIMIT_WORDS[limited] ?? `credit locked ${side}`,
      }, "warn");
      const reason = LIMIT_REASONS[limited];
      return sendAbort(ctx, from, message, reason);
    }
    const hop = newPayment(ctx, message.id, {
      role: "hop",
      state: "locking",
      amount: message.amount,
      upstream: from,
      downstream,
    });
    await lockEdge(ctx, hop, "in");
    await lockEdge(ctx, hop, "out");
    hop.lockExpires = ctx.now + this.limits.lockTimeoutMs;
    await writePayment(ctx, hop);
    this.engine.end(ctx, idHex, [from, downstream]);
    sendStep(ctx, downstream, ServerCommand.Lock, hop);
    this.heldUp.lockSent(ctx.username, downstream, idHex, ctx.now);
    this.retryLater(ctx, hop, true);
  }

  async onLocked(ctx: ServerContext, message: StepMessage): Promise<void> {
    const record = await this.from(ctx, message, "downstream");
    if (record === undefined) return;
    if (record.state === "failed") return sendAbort(ctx, ctx.peer, record, record.reason);
    if (record.state !== "locking") return;
    this.#attempts.delete(key(ctx, record));
    this.heldUp.lockAnswered(ctx.username, ctx.peer, record.idHex);
    if (record.role === "hop") {
      record.state = "locked";
      await writePayment(ctx, record);
      sendStep(ctx, record.upstream!, ServerCommand.Locked, record);
      ctx.wakeAt(record.lockExpires);
    } else if (ctx.now >= record.lockExpires) {
      await this.fail(ctx, record, Reason.LockExpired);
    } else {
      // The buyer's own terms (docs/protocol.md §9), as if a commit had brought them.
      const wait = this.limits.commitDeadlineMs;
      takeTerms(record, ctx.now, this.limits, { waitMs: wait, claimMs: wait / 2 });
      record.state = "committed";
      await writePayment(ctx, record);
      this.#sendCommit(ctx, record);
      this.retryLater(ctx, record, false);
    }
  }

  async onCommit(ctx: ServerContext, message: CommitMessage): Promise<void> {
    const record = await this.from(ctx, message, "upstream");
    if (record === undefined) return sendAbort(ctx, ctx.peer, message, Reason.CommitMissing);
    if (record.state === "failed") return sendAbort(ctx, ctx.peer, record, record.reason);
    if (record.state !== "locked") return this.#answerIrrevocable(ctx, record);
    if (ctx.now >= record.lockExpires) return this.fail(ctx, record, Reason.LockExpired);
    if (!termsAcceptable(message, record.role, this.limits)) {
      return this.fail(ctx, record, Reason.DeadlineTooShort);
    }
    // A seller without a secret cannot give the receipt asked for: it refuses the commit (§6).
    if (message.receipt === 1 && record.role === "seller" && record.secret === null) {
      return this.fail(ctx, record, Reason.NoReceipt);
    }
    takeTerms(record, ctx.now, this.limits, message);
    record.receipt = message.receipt === 1;
    record.state = "committed";
    if (record.role === "seller") {
      record.irrevocable = true;
      await writePayment(ctx, record);
      logPayment(ctx.log, "payment-irrevocable", ctx, record.idHex, { amount: record.amount });
      sendCommitted(ctx, ctx.peer, record);
      ctx.wakeAt(record.claimAt);
      return;
    }
    await writePayment(ctx, record);
    // Taken: the upstream hears so at once, and does not take this account for a staller (§8).
    sendStep(ctx, ctx.peer, ServerCommand.Waiting, record);
    this.#sendCommit(ctx, record);
    this.retryLater(ctx, record, false);
  }

  /** Sends the commit down (again); the downstream's silence from then on counts (§8). */
  #sendCommit(ctx: Context, record: PaymentRecord): void {
    sendCommit(ctx, record);
    this.heldUp.asked(ctx.username, record.downstream!, record.idHex, ctx.now);
  }

  async onCommitted(ctx: ServerContext, message: CommittedMessage): Promise<void> {
    const record = await this.from(ctx, message, "downstream");
    if (record === undefined) return;
    if (!this.believes(ctx, record, message.secret)) return;
    this.heldUp.heard(ctx.username, ctx.peer, record.idHex, "decisive");
    if (record.state === "failed") {
      // Released in full: whatever the downstream learned, it is owed nothing (§9).
      if (record.reason === Reason.Released) return sendReleased(ctx, record, "release");
      return logPayment(ctx.log, "committed-after-abort", ctx, record.idHex, {}, "error");
    }
    if (record.state !== "committed" || record.irrevocable) return;
    this.#attempts.delete(key(ctx, record));
    record.irrevocable = true;
    // The downstream now takes its in-edge whatever this account does (§9), so the out-edge
    // is finalized at once; a hop's own in-edge waits for its upstream's finalize (§6).
    await finalizeEdge(ctx, record, "out");
    record.state = "finalizing";
    await writePayment(ctx, record);
    if (record.role === "hop") {
      sendCommitted(ctx, record.upstream!, record);
      ctx.wakeAt(record.claimAt);
    }
    sendReleased(ctx, record, "finalize");
    this.retryLater(ctx, record, false);
  }

  async onQuery(ctx: ServerContext, message: StepMessage): Promise<void> {
    const record = await this.from(ctx, message, "upstream");
    if (record === undefined) return sendAbort(ctx, ctx.peer, message, Reason.CommitMissing);
    if (record.state === "failed") return sendAbort(ctx, ctx.peer, record, record.reason);
    if (record.state === "locking" || record.state === "locked") {
      // The commit never arrived: record the abort first, so a late commit is refused.
      return this.fail(ctx, record, Reason.CommitMissing);
    }
    this.#answerIrrevocable(ctx, record);
  }

  /**
   * To the upstream, asking: committed if this account knows it, and its claim if it took
   * one; else that it holds the commit and waits on its own downstream (§8), so that the
   * upstream does not count this account as the one holding the payment up.
   */
  #answerIrrevocable(ctx: ServerContext, record: PaymentRecord): void {
    if (!record.irrevocable) {
      if (record.state === "committed") sendStep(ctx, ctx.peer, ServerCommand.Waiting, record);
      return;
    }
    sendCommitted(ctx, ctx.peer, record);
    if (record.claimed) sendClaim(ctx, record);
  }

  /**
   * Whether a downstream's _committed_ or claim may make this record irrevocable (§6): it
   * carries the seller's receipt secret, which the record then keeps, or none was demanded.
   * A word that would not change the record (a duplicate, a failed record) is always taken.
   * A refused one is logged and changes nothing, not even the held-up clocks (§8).
   */
  believes(ctx: ServerContext, record: PaymentRecord, secret: Uint8Array): boolean {
    if (record.state !== "committed" || record.irrevocable) return true;
    if (proves(secret, record.id)) {
      record.secret = secret.slice();
      return true;
    }
    if (!record.receipt) return true;
    logPayment(ctx.log, "payment-no-receipt", ctx, record.idHex, {
      from: formatAccountRef(ctx.peer),
    }, "warn");
    return false;
  }

  /** The downstream holds the commit and waits on its own: {@linkcode from} has noted the word. */
  async onWaiting(ctx: ServerContext, message: StepMessage): Promise<void> {
    await this.from(ctx, message, "downstream", "waiting");
  }

  async onFinalize(ctx: ServerContext, message: ReleasedMessage): Promise<void> {
    const record = await this.from(ctx, message, "upstream");
    if (record === undefined) return;
    const waitsOnUp = record.state === "finalizing" && record.inEdge === "locked";
    if ((record.state === "finalizing" && !waitsOnUp) || record.state === "completed") {
      // After a claim, the upstream's finalize says what it released in the end.
      if (record.claimed) {
        await settleClaim(ctx, record, boundRelease(ctx, record, message.released, this.limits));
      }
      return sendStep(ctx, ctx.peer, ServerCommand.Finalized, record);
    }
    // Only an account that knows the seller holds the commit finalizes: an upstream's
    // finalize before that would make it pay a downstream that may never have committed.
    if (!waitsOnUp && (record.state !== "committed" || !record.irrevocable)) {
      return logPayment(ctx.log, "finalize-refused", ctx, record.idHex, {
        state: record.state,
        irrevocable: record.irrevocable ? 1 : 0,
      }, "warn");
    }
    const released = boundRelease(ctx, record, message.released, this.limits);
    await raiseReleased(ctx, record, "in", released);
    await finalizeEdge(ctx, record, "in");
    await this.passFinalize(ctx, record);
    sendStep(ctx, ctx.peer, ServerCommand.Finalized, record);
  }

  /**
   * After the in-edge is turned into balance (by the upstream's finalize or by a claim): the
   * seller completes; a hop whose finalize down is still unanswered keeps resending it; a
   * hop whose downstream said finalized, or took its edge with a claim, completes; a hop
   * whose out-edge is still locked (a record from before hops finalized down at once)
   * finalizes it and sends finalize down.
   */
  async passFinalize(ctx: Context, record: PaymentRecord): Promise<void> {
    // In finalizing, the finalize down is resent on the record's timer until finalized comes.
    if (record.state !== "finalizing") {
      if (record.role === "seller" || record.outEdge === "done") {
        record.state = "completed";
        logPayment(ctx.log, "payment-completed", ctx, record.idHex, {
          amount: record.amount,
          role: record.role,
        });
      } else {
        await finalizeEdge(ctx, record, "out");
        record.state = "finalizing";
        sendReleased(ctx, record, "finalize");
        this.retryLater(ctx, record, false);
      }
    }
    await writePayment(ctx, record);
  }

  async onFinalized(ctx: ServerContext, message: StepMessage): Promise<void> {
    const record = await this.from(ctx, message, "downstream");
    if (record?.state !== "finalizing") return;
    this.#attempts.delete(key(ctx, record));
    if (record.inEdge === "locked") {
      // Still waiting for the upstream's finalize, or for the claim time (§9).
      record.state = "committed";
      await writePayment(ctx, record);
      ctx.wakeAt(record.claimAt);
      return;
    }
    record.state = "completed";
    await writePayment(ctx, record);
    logPayment(ctx.log, "payment-completed", ctx, record.idHex, {
      amount: record.amount,
      role: record.role,
    });
  }

  async onAbort(ctx: ServerContext, message: StepMessage & { reason: number }): Promise<void> {
    const found = await this.#fromEither(ctx, message, ["downstream", "upstream"], "decisive");
    if (found === undefined || found.record.state === "failed") return;
    const { record } = found;
    const fromDownstream = found.side === "downstream";
    // Before its commit an account may abort at any time; after it, only on its
    // downstream's word that the payment was aborted there.
    const mayAbort = record.state === "locking" || record.state === "locked" ||
      (record.state === "committed" && fromDownstream && !record.irrevocable);
    if (!mayAbort) {
      return logPayment(ctx.log, "abort-refused", ctx, record.idHex, {
        state: record.state,
        from: formatAccountRef(ctx.peer),
      }, "warn");
    }
    // The downstream's reason is passed on, so the buyer learns why (a limit, no credit).
    const reason = fromDownstream ? knownReason(message.reason, Reason.Aborted) : Reason.Aborted;
    await this.fail(ctx, record, reason, ctx.peer);
  }

  /**
   * Ends a payment as failed: releases its locks, records why, and tells the neighbours on
   * its path (except `except`, who told us) so they release theirs.
   */
  async fail(
    ctx: Context,
    record: PaymentRecord,
    reason: ReasonCode,
    except: AccountRef | null = null,
  ): Promise<void> {
    await releaseEdges(ctx, record);
    record.state = "failed";
    record.reason = reason;
    await writePayment(ctx, record);
    this.#attempts.delete(key(ctx, record));
    this.heldUp.heard(ctx.username, record.downstream, record.idHex);
    for (
      const [side, neighbour] of [["up", record.upstream], ["down", record.downstream]] as const
    ) {
      if (neighbour === null || sameAccount(neighbour, except)) continue;
      // A silent downstream after a commit is told it is owed nothing, not that it aborted.
      if (reason === Reason.Released && side === "down") sendReleased(ctx, record, "release");
      else sendAbort(ctx, neighbour, record, reason);
    }
    logPayment(ctx.log, "payment-failed", ctx, record.idHex, {
      role: record.role,
      reason: reasonText(reason),
      code: reason,
    });
  }

  /**
   * Asks for the next resend of this record's pending step, backing off; `bounded` stops at
   * the lock's expiry, `patient` backs off to the query maximum instead of the step one.
   */
  retryLater(ctx: Context, record: PaymentRecord, bounded: boolean, patient = false): number {
    const k = key(ctx, record);
    const attempt = this.#attempts.get(k)?.attempt ?? 0;
    const backoff = {
      retryBaseMs: this.limits.stepRetryBaseMs,
      retryMaxMs: patient ? this.limits.queryRetryMaxMs : this.limits.stepRetryMaxMs,
    };
    const next = ctx.now + retryDelay(backoff, attempt, this.#random);
    const at = bounded ? Math.min(next, record.lockExpires) : next;
    this.#attempts.set(k, { attempt: attempt + 1, at });
    ctx.wakeAt(at);
    return at;
  }

  /**
   * The record a step message refers to, if it comes from the expected neighbour with the same
   * amount. `word` is what a message from the downstream says about the payment for the
   * held-up clocks (§8): committed, abort and a claim settle it (`decisive`); _waiting_ says
   * only that it has not settled it yet; locked and finalized (`none`), which are no answer
   * to a commit or query, stop no clock, so that a neighbour cannot reset them with those.
   */
  async from(
    ctx: ServerContext,
    message: StepMessage,
    side: Side,
    word: Word = "none",
  ): Promise<PaymentRecord | undefined> {
    return (await this.#fromEither(ctx, message, [side], word))?.record;
  }

  /** Like {@linkcode #from}, for a message that may come from either of `sides`; logs a refusal. */
  async #fromEither(
    ctx: ServerContext,
    message: StepMessage,
    sides: Side[],
    word: Word = "none",
  ): Promise<{ record: PaymentRecord; side: Side } | undefined> {
    const idHex = toHex(message.id);
    const record = await readPayment(ctx.tx, ctx.username, idHex);
    if (record === undefined) {
      logPayment(
        ctx.log,
        "payment-unknown",
        ctx,
        idHex,
        { from: formatAccountRef(ctx.peer) },
        "warn",
      );
      return undefined;
    }
    const side = sides.find((side) => sameAccount(record[side], ctx.peer));
    if (side === "downstream" && record.amount === message.amount && word !== "none") {
      this.heldUp.heard(ctx.username, ctx.peer, idHex, word);
    }
    if (side === undefined || record.amount !== message.amount) {
      logPayment(ctx.log, "payment-mismatch", ctx, idHex, {
        from: formatAccountRef(ctx.peer),
        amount: message.amount,
      }, "warn");
      return undefined;
    }
    return { record: ensureTerms(record, this.limits), side };
  }
}

type Side = "upstream" | "downstream";

/** What a downstream's message says about a payment to the held-up clocks (§8). */
type Word = "decisive" | "waiting" | "none";

/** The limits of {@linkcode transitLimit} as the log and the buyer's reason name them. */
const LIMIT_WORDS: Record<string, string> = {
  payments: "payments in flight",
  "held-up": "payments held up",
  "slow-locks": "locks slow to answer",
};
const LIMIT_REASONS: Record<"payments" | "credit" | "held-up" | "slow-locks", ReasonCode> = {
  payments: Reason.PeerPaymentsLimit,
  credit: Reason.PeerCreditLimit,
  "held-up": Reason.PeerHoldsUp,
  "slow-locks": Reason.PeerHoldsUp,
};

function key(ctx: Context, record: PaymentRecord): string {
  return `${ctx.username} ${record.idHex}`;
}
