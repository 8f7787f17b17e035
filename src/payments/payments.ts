/** Payments: client commands 5–8 and 10, the search and step server commands, and their timers. */

import type { Limits } from "../core/config.ts";
import {
  clientCommand,
  type ClientContext,
  type Context,
  type Feature,
  serverCommand,
} from "../core/context.ts";
import { type Outcome, SearchEngine, SearchRefused } from "../paths/search.ts";
import { decodeLabel, type LabelTable } from "../paths/labels.ts";
import { Front } from "../paths/search_table.ts";
import { sameAccount } from "../wire/names.ts";
import { readBooks } from "../store/books.ts";
import {
  abortArgs,
  balanceBody,
  claimArgs,
  commitArgs,
  committedArgs,
  noArgs,
  PAGE_SIZE,
  pageArgs,
  pageHeader,
  paymentArgs,
  paymentBody,
  paymentEntry,
  paymentIdArgs,
  paymentInArgs,
  paymentOutArgs,
  releasedArgs,
  searchArgs,
  searchEndArgs,
  searchReportArgs,
  walkArgs,
  walkReportArgs,
} from "../wire/arguments.ts";
import { ClientCommand, ServerCommand } from "../wire/commands.ts";
import { concatBytes } from "../wire/layout.ts";
import { Status } from "../wire/response.ts";
import { toHex } from "../auth/keys.ts";
import {
  listPayments,
  newPayment,
  type PaymentRecord,
  type PaymentState,
  readPayment,
  Reason,
  type Role,
  writePayment,
} from "./record.ts";
import { claimDelivered, onClaim, onRelease, onSettled, waitOf } from "./deadlines.ts";
import { HeldUp } from "./held_up.ts";
import { hasSecret, proves, secretField } from "../auth/receipts.ts";
import { PaymentSteps } from "./steps.ts";
import { runPaymentTimers } from "./timers.ts";

/** What the payments feature needs from the server. */
export interface PaymentOptions {
  limits: Limits;
  random: () => number;
  /** This server's canonical address, to refuse a payment to oneself. */
  address: string;
  /** The accounts' routing labels, for the directed walk. */
  labels?: LabelTable;
}

/** The state byte of get payment (client command 7). */
export const STATE_CODES: Record<PaymentState, number> = {
  searching: 1,
  found: 2,
  locking: 3,
  locked: 3,
  committed: 4,
  finalizing: 5,
  completed: 6,
  failed: 7,
};

/** A duration from the wire (ms), bounded so that adding it to a time stays exact. */
function duration(ms: bigint): number {
  const year = 366n * 86_400_000n;
  return Number(ms > year ? year : ms);
}

/** The failure reason of a search that ended without a path. */
const FAILED_SEARCH = {
  "no-path": Reason.NoPath,
  capped: Reason.PeerLimits,
  depth: Reason.NoPathWithinHops,
  timeout: Reason.SearchTimeout,
} as const;

/** The role byte of get payment and list payments. */
export const ROLE_CODES: Record<Role, number> = { buyer: 1, seller: 2, hop: 3 };

const encoder = new TextEncoder();

const MISMATCH_HINT = {
  buyer: "pay exactly the amount the seller's receive asked for",
  seller:
    "the buyer is paying another amount under this id; agree on the amount, then receive again",
};

/**
 * The payments feature: starts searches for buyers and sellers, runs the three-step
 * commit, and answers the client's questions about payments and balances.
 *
 * @example
 * ```ts ignore
 * const payments = createPayments({ limits: DEFAULT_LIMITS, random: Math.random, address: "127.0.0.2" });
 * ```
 */
export function createPayments(options: PaymentOptions): Feature & { engine: SearchEngine } {
  const heldUp = new HeldUp(options.limits);
  const engine = new SearchEngine(
    options.limits,
    options.labels,
    (username, peer, now) => heldUp.count(username, peer, now),
  );
  const steps = new PaymentSteps(engine, options.limits, options.random, heldUp);

  /** Acts on the end of a search at a root: lock (buyer), wait for the lock (seller), or fail. */
  const conclude = async (ctx: Context, outcome: Outcome | null) => {
    if (outcome === null) return;
    const record = await readPayment(ctx.tx, ctx.username, outcome.idHex);
    if (record?.state !== "searching") return;
    if (outcome.kind === "failed") {
      engine.end(ctx, outcome.idHex, []);
      return steps.fail(ctx, record, FAILED_SEARCH[outcome.reason]);
    }
    if (outcome.front === Front.Out) {
      engine.end(ctx, outcome.idHex, [outcome.downstream]);
      return steps.startLock(ctx, record, outcome.downstream!);
    }
    record.state = "found";
    record.lockExpires = ctx.now + options.limits.searchTimeoutMs;
    await writePayment(ctx, record);
    ctx.wakeAt(record.lockExpires);
  };

  const start = (role: "buyer" | "seller") =>
  async (
    ctx: ClientContext,
    { id, amount, label, receipt, secret }: {
      id: Uint8Array;
      amount: bigint;
      label?: Uint8Array;
      receipt?: number;
      secret?: Uint8Array;
    },
  ) => {
    const refuse = (
      message: string,
      status: typeof Status.Refused | typeof Status.Busy = Status.Refused,
    ) => ({
      status,
      body: encoder.encode(message),
    });
    if (amount === 0n) return refuse("the amount must be greater than zero");
    // The seller's receipt (docs/protocol.md §6): the id must be the secret's SHA-256.
    if (receipt !== undefined && receipt > 1) {
      return { status: Status.Malformed, body: encoder.encode("receipt is 0 or 1") };
    }
    if (hasSecret(secret) && !proves(secret, id)) {
      return {
        status: Status.Malformed,
        body: encoder.encode("the payment id is not the SHA-256 of the receipt secret given"),
      };
    }
    if (sameAccount(ctx.peer, { username: ctx.username, address: options.address })) {
      return refuse("an account cannot pay itself");
    }
    const idHex = toHex(id);
    if ((await readPayment(ctx.tx, ctx.username, idHex)) !== undefined) {
      return refuse("this payment id was already used");
    }
    const record = newPayment(ctx, id, {
      role,
      state: "searching",
      amount,
      counterpart: ctx.peer,
      receipt: receipt === 1,
      secret: hasSecret(secret) ? secret.slice() : null,
    });
    let outcome;
    try {
      outcome = await engine.start(
        ctx,
        id,
        idHex,
        amount,
        role === "buyer" ? Front.Out : Front.In,
        label === undefined ? [] : decodeLabel(label),
      );
    } catch (error) {
      if (error instanceof SearchRefused && error.busy) return refuse(error.message, Status.Busy);
      // The other end's search reached this account first, for another amount: retrying cannot help.
      if (error instanceof SearchRefused) {
        return refuse(`${error.message}: ${MISMATCH_HINT[role]}`);
      }
      throw error;
    }
    // Written only once the search is under way, so that a busy answer leaves nothing behind.
    await writePayment(ctx, record);
    ctx.log.info("payment-started", {
      account: ctx.username,
      payment: idHex.slice(0, 16),
      role,
      amount,
    });
    await conclude(ctx, outcome);
    return { status: Status.Ok };
  };

  const clientCommands = {
    [ClientCommand.NewPaymentOut]: clientCommand({
      args: paymentOutArgs,
      peer: "any",
      handle: start("buyer"),
    }),
    [ClientCommand.NewPaymentIn]: clientCommand({
      args: paymentInArgs,
      peer: "any",
      handle: start("seller"),
    }),
    [ClientCommand.GetPayment]: clientCommand({
      args: paymentIdArgs,
      peer: "none",
      async handle(ctx, { id }) {
        const record = await readPayment(ctx.tx, ctx.username, toHex(id));
        const wait = record === undefined ? null : waitOf(record, ctx.now);
        const body = paymentBody.encode({
          state: record === undefined ? 0 : STATE_CODES[record.state],
          amount: record?.amount ?? 0n,
          role: record === undefined ? 0 : ROLE_CODES[record.role],
          reason: record?.reason ?? 0,
          updatedAt: BigInt(record?.updatedAt ?? 0),
          waitKind: wait === null ? 0 : wait.kind === "answer" ? 1 : 2,
          waitName: wait?.on.username ?? "",
          waitAddress: wait?.on.address ?? "",
          waitDue: BigInt(wait?.due ?? 0),
          overdue: wait?.overdue ? 1 : 0,
          released: wait?.released ?? 0n,
          endsBy: BigInt(wait?.endsBy ?? 0),
          // The seller's secret before its commit is not yet a receipt: shown once irrevocable.
          secret: secretField(record?.irrevocable ? record.secret : null),
        });
        return { status: Status.Ok, body };
      },
    }),
    [ClientCommand.GetBalance]: clientCommand({
      args: noArgs,
      peer: "known",
      async handle(ctx) {
        const books = await readBooks(ctx.tx, ctx.username, ctx.peer);
        const body = balanceBody.encode({
          balance: books.balance,
          lockedIn: books.lockedIn,
          lockedOut: books.lockedOut,
        });
        return { status: Status.Ok, body };
      },
    }),
    [ClientCommand.ListPayments]: clientCommand({
      args: pageArgs,
      peer: "none",
      async handle(ctx, { offset }) {
        const ids = [
          ...(await listPayments(ctx.tx, ctx.username, false)),
          ...(await listPayments(ctx.tx, ctx.username, true)),
        ];
        const page: PaymentRecord[] = [];
        for (const idHex of ids.slice(offset, offset + PAGE_SIZE)) {
          const record = await readPayment(ctx.tx, ctx.username, idHex);
          if (record !== undefined) page.push(record);
        }
        const parts = [
          pageHeader.encode({ total: ids.length, count: page.length }),
          ...page.map((record) =>
            paymentEntry.encode({
              id: record.id,
              state: STATE_CODES[record.state],
              role: ROLE_CODES[record.role],
              reason: record.reason,
              amount: record.amount,
              counterpartName: record.counterpart?.username ?? "",
              counterpartAddress: record.counterpart?.address ?? "",
              updatedAt: BigInt(record.updatedAt),
            })
          ),
        ];
        return { status: Status.Ok, body: concatBytes(parts) };
      },
    }),
  };

  const serverCommands = {
    [ServerCommand.Search]: serverCommand({
      args: searchArgs,
      async handle(ctx, message) {
        if (message.front > 1 || message.round === 0) return;
        await conclude(ctx, await engine.onSearch(ctx, ctx.peer, message));
      },
    }),
    [ServerCommand.SearchReport]: serverCommand({
      args: searchReportArgs,
      async handle(ctx, message) {
        if (message.front > 1) return;
        await conclude(ctx, await engine.onReport(ctx, ctx.peer, message));
      },
    }),
    [ServerCommand.SearchEnd]: serverCommand({
      args: searchEndArgs,
      handle(ctx, message) {
        if (message.front <= Front.Walk) engine.onEnd(ctx, ctx.peer, message);
        return Promise.resolve();
      },
    }),
    [ServerCommand.Walk]: serverCommand({
      args: walkArgs,
      async handle(ctx, message) {
        await conclude(ctx, await engine.onWalk(ctx, ctx.peer, message));
      },
    }),
    [ServerCommand.WalkReport]: serverCommand({
      args: walkReportArgs,
      async handle(ctx, message) {
        await conclude(ctx, await engine.onWalkReport(ctx, ctx.peer, message));
      },
    }),
    [ServerCommand.Lock]: serverCommand({
      args: paymentArgs,
      handle: (ctx, m) => steps.onLock(ctx, m),
    }),
    [ServerCommand.Locked]: serverCommand({
      args: paymentArgs,
      handle: (ctx, m) => steps.onLocked(ctx, m),
    }),
    [ServerCommand.Commit]: serverCommand({
      args: commitArgs,
      handle: (ctx, m) =>
        steps.onCommit(ctx, {
          ...m,
          waitMs: duration(m.waitMs),
          claimMs: duration(m.claimMs),
          releaseMs: duration(m.releaseMs),
        }),
    }),
    [ServerCommand.Committed]: serverCommand({
      args: committedArgs,
      handle: (ctx, m) => steps.onCommitted(ctx, m),
    }),
    [ServerCommand.Query]: serverCommand({
      args: paymentArgs,
      handle: (ctx, m) => steps.onQuery(ctx, m),
    }),
    [ServerCommand.Waiting]: serverCommand({
      args: paymentArgs,
      handle: (ctx, m) => steps.onWaiting(ctx, m),
    }),
    [ServerCommand.Finalize]: serverCommand({
      args: releasedArgs,
      handle: (ctx, m) => steps.onFinalize(ctx, m),
    }),
    [ServerCommand.Release]: serverCommand({
      args: releasedArgs,
      handle: (ctx, m) => onRelease(steps, ctx, m),
    }),
    [ServerCommand.Claim]: serverCommand({
      args: claimArgs,
      handle: (ctx, m) => onClaim(steps, ctx, m),
    }),
    [ServerCommand.Settled]: serverCommand({
      args: releasedArgs,
      handle: (ctx, m) => onSettled(steps, ctx, m),
    }),
    [ServerCommand.Finalized]: serverCommand({
      args: paymentArgs,
      handle: (ctx, m) => steps.onFinalized(ctx, m),
    }),
    [ServerCommand.Abort]: serverCommand({
      args: abortArgs,
      handle: (ctx, m) => steps.onAbort(ctx, m),
    }),
  };

  return {
    engine,
    clientCommands,
    serverCommands,
    deliveries: new Set([ServerCommand.Claim]),
    delivered: (ctx, to, _command, args) => claimDelivered(ctx, to, claimArgs.decode(args)),
    async wake(ctx) {
      for (const outcome of await engine.wake(ctx)) await conclude(ctx, outcome);
      await runPaymentTimers(ctx, steps);
    },
  };
}
