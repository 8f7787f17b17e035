/** What a payment does when nobody answers: resend its step, let its lock expire, or ask the next account. */

import type { Context } from "../core/context.ts";
import { ServerCommand } from "../wire/commands.ts";
import { claimIfDue, ensureTerms, releaseSilent, resendClaim } from "./deadlines.ts";
import { listPayments, type PaymentRecord, readPayment, Reason, writePayment } from "./record.ts";
import { sendClaim, sendCommit, sendReleased, sendStep } from "./messages.ts";
import type { PaymentSteps } from "./steps.ts";

/**
 * Runs the timers of every payment in flight at one account. Each record says by its
 * state what is overdue; nothing about the timers lives only in memory except back-off.
 */
export async function runPaymentTimers(ctx: Context, steps: PaymentSteps): Promise<void> {
  for (const idHex of await listPayments(ctx.tx, ctx.username, false)) {
    const record = await readPayment(ctx.tx, ctx.username, idHex);
    if (record !== undefined) await runTimer(ctx, steps, ensureTerms(record, steps.limits));
  }
}

async function runTimer(ctx: Context, steps: PaymentSteps, record: PaymentRecord): Promise<void> {
  switch (record.state) {
    case "searching":
      // The search lives in memory only: after a restart its root has nothing to wait for.
      if (!steps.engine.table.get(ctx.username, record.idHex)) {
        await steps.fail(ctx, record, Reason.Restarted);
      }
      return;
    case "found":
      if (ctx.now >= record.lockExpires) await steps.fail(ctx, record, Reason.SearchTimeout);
      else ctx.wakeAt(record.lockExpires);
      return;
    case "locking": {
      if (ctx.now >= record.lockExpires) return await steps.fail(ctx, record, Reason.LockExpired);
      const ahead = steps.resendAhead(ctx, record);
      if (ahead !== null) return ctx.wakeAt(ahead);
      sendStep(ctx, record.downstream!, ServerCommand.Lock, record);
      steps.heldUp.lockSent(ctx.username, record.downstream!, record.idHex, ctx.now);
      steps.retryLater(ctx, record, true);
      return;
    }
    case "locked":
      if (ctx.now >= record.lockExpires) return await steps.fail(ctx, record, Reason.LockExpired);
      ctx.wakeAt(record.lockExpires);
      return;
    case "committed": {
      // Waiting for the upstream's finalize: the upstream resends it, and at the claim time
      // this account takes it (docs/protocol.md §9).
      if (record.irrevocable || record.role === "seller") {
        const next = await claimIfDue(steps, ctx, record);
        if (next !== null) ctx.wakeAt(next);
        return;
      }
      // Resend the commit for a while; then ask whether it arrived (the answer may abort it).
      const ahead = steps.resendAhead(ctx, record);
      const asking = ctx.now >= record.committedAt + steps.limits.commitQueryMs;
      if (ahead === null) {
        if (asking) sendStep(ctx, record.downstream!, ServerCommand.Query, record);
        else sendCommit(ctx, record);
        steps.heldUp.asked(ctx.username, record.downstream!, record.idHex, ctx.now);
      }
      const release = await releaseSilent(steps, ctx, record);
      if (release === null) return;
      const ask = ahead ?? steps.retryLater(ctx, record, false, asking);
      ctx.wakeAt(Math.min(release, ask));
      return;
    }
    case "completed": {
      // Still in flight only while a claim of it waits for its answer.
      const ahead = steps.resendAhead(ctx, record);
      if (ahead !== null) return ctx.wakeAt(ahead);
      if (record.claimed) await resendClaim(steps, ctx, record);
      return;
    }
    case "finalizing": {
      // A hop that finalized down at once still waits for its upstream's finalize (§6).
      if (record.inEdge === "locked") {
        const next = await claimIfDue(steps, ctx, record);
        if (next === null) return;
        ctx.wakeAt(next);
      }
      // By the downstream's claim time it has taken its in-edge itself, or will on contact.
      if (ctx.now >= record.committedAt + record.passClaim + steps.limits.commitMarginMs) {
        record.state = "completed";
        await writePayment(ctx, record);
        if (record.claimed) await resendClaim(steps, ctx, record);
        return;
      }
      const ahead = steps.resendAhead(ctx, record);
      if (ahead !== null) return ctx.wakeAt(ahead);
      if (record.claimed) sendClaim(ctx, record);
      sendReleased(ctx, record, "finalize");
      steps.retryLater(ctx, record, false);
      return;
    }
  }
}
