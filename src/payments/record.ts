/** A payment as one account keeps it: its role, state, neighbours on the path and locks, as a text file. */

import { fromHex, toHex } from "../auth/keys.ts";
import type { Context } from "../core/context.ts";
import { addToBooks } from "../store/books.ts";
import { paymentPath, paymentsDir, peerPath } from "../store/paths.ts";
import type { Tx } from "../store/tx.ts";
import { type AccountRef, formatAccountRef, parseAccountRef, sameAccount } from "../wire/names.ts";
import { Reason, type ReasonCode } from "../wire/reasons.ts";

/** Where this account stands on the path. */
export type Role = "buyer" | "seller" | "hop";

/** The per-account states; docs/protocol.md has the table of transitions. */
export type PaymentState =
  | "searching"
  | "found"
  | "locking"
  | "locked"
  | "committed"
  | "finalizing"
  | "completed"
  | "failed";

/** The state of one edge's share of a payment, at this account. */
export type EdgeState = "none" | "locked" | "done" | "released";

export { Reason, type ReasonCode } from "../wire/reasons.ts";

/** One account's record of one payment. */
export interface PaymentRecord {
  id: Uint8Array;
  idHex: string;
  role: Role;
  state: PaymentState;
  amount: bigint;
  /** The neighbour the payment comes from; null at the buyer. */
  upstream: AccountRef | null;
  /** The neighbour the payment goes to; null at the seller (and until a path is found). */
  downstream: AccountRef | null;
  /** Buyer and seller: the other end, as the client named it. */
  counterpart: AccountRef | null;
  inEdge: EdgeState;
  outEdge: EdgeState;
  /** Until step 2, any account may let its lock go at this time (ms since the epoch). */
  lockExpires: number;
  /** When this account committed (step 2), for the query timer. */
  committedAt: number;
  /** Whether this account knows the seller holds the commit (the payment cannot be undone). */
  irrevocable: boolean;
  /** From the commit on (docs/protocol.md §9): past it, a silent downstream is released. */
  deadline: number;
  /** From the commit on: past it, an upstream that has not finalized an irrevocable payment finds it claimed. */
  claimAt: number;
  /** The release period the commit carried. */
  releaseMs: number;
  /** What this account's commit passes down: the downstream's wait and claim durations. */
  passWait: number;
  passClaim: number;
  /** Part of the amount released towards the downstream (it no longer owes it that). */
  releasedOut: bigint;
  /** Part of the amount the upstream released towards this account, as far as seen. */
  releasedIn: bigint;
  /** The in-edge was taken by a claim; the upstream's settled answer is awaited. */
  claimed: boolean;
  /** When the claim was made. */
  claimedAt: number;
  /**
   * When the upstream's server first took the claim (0: not known to have): what the
   * upstream had released by then is all it can still settle (docs/protocol.md §9).
   */
  claimDelivered: number;
  /**
   * This account believes _committed_ or a claim from its downstream only with the seller's
   * receipt secret (docs/protocol.md §6): the buyer asked for it, and commits pass it down.
   */
  receipt: boolean;
  /** The seller's receipt secret, once known (the seller's from the start); null: none. */
  secret: Uint8Array | null;
  reason: ReasonCode;
  createdAt: number;
  updatedAt: number;
  /**
   * The neighbours this record is counted with in their `in_flight.txt`, as last written
   * (not stored: it follows from the stored state).
   */
  counted: AccountRef[];
}

/** Whether a state is final: the record then lives in the account's history. */
export function isEnded(state: PaymentState): boolean {
  return state === "completed" || state === "failed";
}

/** Reads a payment record, in flight or ended; undefined if this account never had it. */
export async function readPayment(
  tx: Tx,
  username: string,
  idHex: string,
): Promise<PaymentRecord | undefined> {
  const text = await tx.get(paymentPath(username, idHex)) ??
    await tx.get(paymentPath(username, idHex, true));
  return text === undefined ? undefined : parseRecord(idHex, text);
}

/** The ids of the payments in flight (`ended` false) or ended (`ended` true), sorted. */
export async function listPayments(tx: Tx, username: string, ended: boolean): Promise<string[]> {
  return (await tx.list(paymentsDir(username, ended)))
    .filter((name) => /^[0-9a-f]{64}\.txt$/.test(name))
    .map((name) => name.slice(0, 64));
}

/**
 * Writes a record; an ended one moves from the payments in flight to the history. The
 * count of payments in flight with each neighbour follows in the same change set.
 */
export async function writePayment(ctx: Context, record: PaymentRecord): Promise<void> {
  record.updatedAt = ctx.now;
  const ended = isSettled(record);
  ctx.tx.set(paymentPath(ctx.username, record.idHex, ended), formatRecord(record));
  if (ended) ctx.tx.set(paymentPath(ctx.username, record.idHex), null);
  const counted = inFlightWith(record);
  for (const peer of record.counted) {
    if (!counted.some((n) => sameAccount(n, peer))) {
      await countInFlight(ctx, peer, -1n);
    }
  }
  for (const peer of counted) {
    if (!record.counted.some((n) => sameAccount(n, peer))) {
      await countInFlight(ctx, peer, 1n);
    }
  }
  record.counted = counted;
}

/** Whether nothing is left to do: ended, and no claim of it waits for its answer (§9). */
export function isSettled(record: PaymentRecord): boolean {
  return isEnded(record.state) && !record.claimed;
}

/**
 * Counts a payment in flight with `peer`, never below zero: a record written before the
 * counts existed was never counted (docs/protocol.md §8).
 */
async function countInFlight(ctx: Context, peer: AccountRef, delta: bigint): Promise<void> {
  const path = peerPath(ctx.username, peer, "in_flight.txt");
  const count = await ctx.tx.getBigint(path) + delta;
  ctx.tx.setNumber(path, count < 0n ? 0n : count);
}

/**
 * The neighbours a record counts as a payment in flight with (§8): before the commit both
 * of its neighbours; after it only the one it waits on (the downstream for its answer or
 * its finalized, the upstream for its finalize or the answer to a claim), so that a
 * neighbour which stalls uses up its own count and not that of the edge the payment came by.
 */
export function inFlightWith(record: PaymentRecord): AccountRef[] {
  const waitsOn: (AccountRef | null)[] = [];
  if (record.state === "committed") {
    const answer = !record.irrevocable && record.role !== "seller";
    waitsOn.push(answer ? record.downstream : record.inEdge === "locked" ? record.upstream : null);
  } else if (record.state === "finalizing") {
    // A hop that finalized down at once waits on both: finalized below, finalize above.
    waitsOn.push(record.downstream, record.inEdge === "locked" ? record.upstream : null);
  } else if (!isEnded(record.state)) {
    waitsOn.push(record.upstream, record.downstream);
  }
  if (record.claimed) waitsOn.push(record.upstream);
  const neighbours: AccountRef[] = [];
  for (const n of waitsOn) {
    if (n !== null && !neighbours.some((m) => sameAccount(m, n))) neighbours.push(n);
  }
  return neighbours;
}

/** A new record. */
export function newPayment(
  ctx: Context,
  id: Uint8Array,
  fields: Pick<PaymentRecord, "role" | "state" | "amount"> & Partial<PaymentRecord>,
): PaymentRecord {
  return {
    id,
    idHex: toHex(id),
    upstream: null,
    downstream: null,
    counterpart: null,
    inEdge: "none",
    outEdge: "none",
    lockExpires: 0,
    committedAt: 0,
    irrevocable: false,
    deadline: 0,
    claimAt: 0,
    releaseMs: 0,
    passWait: 0,
    passClaim: 0,
    releasedOut: 0n,
    releasedIn: 0n,
    claimed: false,
    claimedAt: 0,
    claimDelivered: 0,
    receipt: false,
    secret: null,
    reason: Reason.None,
    createdAt: ctx.now,
    updatedAt: ctx.now,
    counted: [],
    ...fields,
  };
}

/** Locks the amount on the edge with the upstream (`in`) or downstream (`out`) neighbour. */
export async function lockEdge(
  ctx: Context,
  record: PaymentRecord,
  side: "in" | "out",
): Promise<void> {
  const peer = side === "in" ? record.upstream! : record.downstream!;
  await addToBooks(
    ctx.tx,
    ctx.username,
    peer,
    side === "in" ? "locked_in" : "locked_out",
    record.amount,
  );
  if (side === "in") record.inEdge = "locked";
  else record.outEdge = "locked";
}

/** Releases every lock the record still holds (what is left of it after any release). */
export async function releaseEdges(ctx: Context, record: PaymentRecord): Promise<void> {
  if (record.inEdge === "locked") {
    const left = record.amount - record.releasedIn;
    await addToBooks(ctx.tx, ctx.username, record.upstream!, "locked_in", -left);
    record.inEdge = "released";
  }
  if (record.outEdge === "locked") {
    const left = record.amount - record.releasedOut;
    await addToBooks(ctx.tx, ctx.username, record.downstream!, "locked_out", -left);
    record.outEdge = "released";
  }
}

/**
 * Step 3 on one edge: what is left of the lock becomes balance, the amount less what the
 * upstream side of the edge released (docs/protocol.md §9).
 */
export async function finalizeEdge(
  ctx: Context,
  record: PaymentRecord,
  side: "in" | "out",
): Promise<void> {
  if ((side === "in" ? record.inEdge : record.outEdge) !== "locked") return;
  const peer = side === "in" ? record.upstream! : record.downstream!;
  if (side === "in") {
    const left = record.amount - record.releasedIn;
    await addToBooks(ctx.tx, ctx.username, peer, "locked_in", -left);
    await addToBooks(ctx.tx, ctx.username, peer, "balance", left);
    record.inEdge = "done";
  } else {
    const left = record.amount - record.releasedOut;
    await addToBooks(ctx.tx, ctx.username, peer, "locked_out", -left);
    await addToBooks(ctx.tx, ctx.username, peer, "balance", -left);
    record.outEdge = "done";
  }
}

/**
 * Raises what is released on one edge to `released` (cumulative): on the out-edge this
 * account releases its downstream, on the in-edge it applies its upstream's release. A
 * locked edge frees the lock by the increase; a finished one (taken by a claim before the
 * upstream's last release arrived) owes or is owed that much less.
 */
export async function raiseReleased(
  ctx: Context,
  record: PaymentRecord,
  side: "in" | "out",
  released: bigint,
): Promise<void> {
  const before = side === "in" ? record.releasedIn : record.releasedOut;
  const capped = released > record.amount ? record.amount : released;
  if (capped <= before) return;
  const delta = capped - before;
  const edge = side === "in" ? record.inEdge : record.outEdge;
  const peer = side === "in" ? record.upstream! : record.downstream!;
  if (edge === "locked") {
    await addToBooks(
      ctx.tx,
      ctx.username,
      peer,
      side === "in" ? "locked_in" : "locked_out",
      -delta,
    );
  } else if (edge === "done") {
    await addToBooks(ctx.tx, ctx.username, peer, "balance", side === "in" ? -delta : delta);
  } else return;
  if (side === "in") record.releasedIn = capped;
  else record.releasedOut = capped;
}

const FIELDS = [
  "role",
  "state",
  "amount",
  "upstream",
  "downstream",
  "counterpart",
  "in",
  "out",
  "lock_expires",
  "committed_at",
  "irrevocable",
  "deadline",
  "claim_at",
  "release_ms",
  "pass_wait",
  "pass_claim",
  "released_out",
  "released_in",
  "claimed",
  "claimed_at",
  "claim_delivered",
  "receipt",
  "secret",
  "reason",
  "created",
  "updated",
] as const;

/** The text form of a record: one `key=value` line per field. */
export function formatRecord(record: PaymentRecord): string {
  const ref = (account: AccountRef | null) => (account === null ? "" : formatAccountRef(account));
  const values: Record<(typeof FIELDS)[number], string> = {
    role: record.role,
    state: record.state,
    amount: String(record.amount),
    upstream: ref(record.upstream),
    downstream: ref(record.downstream),
    counterpart: ref(record.counterpart),
    in: record.inEdge,
    out: record.outEdge,
    lock_expires: String(record.lockExpires),
    committed_at: String(record.committedAt),
    irrevocable: record.irrevocable ? "1" : "0",
    deadline: String(record.deadline),
    claim_at: String(record.claimAt),
    release_ms: String(record.releaseMs),
    pass_wait: String(record.passWait),
    pass_claim: String(record.passClaim),
    released_out: String(record.releasedOut),
    released_in: String(record.releasedIn),
    claimed: record.claimed ? "1" : "0",
    claimed_at: String(record.claimedAt),
    claim_delivered: String(record.claimDelivered),
    receipt: record.receipt ? "1" : "0",
    secret: record.secret === null ? "" : toHex(record.secret),
    reason: String(record.reason),
    created: String(record.createdAt),
    updated: String(record.updatedAt),
  };
  return FIELDS.map((field) => `${field}=${values[field]}\n`).join("");
}

/** Parses the text form; throws on a damaged record, which the operator must look at. */
export function parseRecord(idHex: string, text: string): PaymentRecord {
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const get = (field: string) => {
    const value = values.get(field);
    if (value === undefined) throw new Error(`payment ${idHex} has no ${field}`);
    return value;
  };
  const ref = (field: string) => (get(field) === "" ? null : parseAccountRef(get(field)));
  // Fields of the deadlines after the commit; a record written before them has none.
  const later = (field: string) => values.get(field) ?? "0";
  const record: PaymentRecord = {
    id: fromHex(idHex),
    idHex,
    role: get("role") as Role,
    state: get("state") as PaymentState,
    amount: BigInt(get("amount")),
    upstream: ref("upstream"),
    downstream: ref("downstream"),
    counterpart: ref("counterpart"),
    inEdge: get("in") as EdgeState,
    outEdge: get("out") as EdgeState,
    lockExpires: Number(get("lock_expires")),
    committedAt: Number(get("committed_at")),
    irrevocable: get("irrevocable") === "1",
    deadline: Number(later("deadline")),
    claimAt: Number(later("claim_at")),
    releaseMs: Number(later("release_ms")),
    passWait: Number(later("pass_wait")),
    passClaim: Number(later("pass_claim")),
    releasedOut: BigInt(later("released_out")),
    releasedIn: BigInt(later("released_in")),
    claimed: later("claimed") === "1",
    claimedAt: Number(later("claimed_at")),
    claimDelivered: Number(later("claim_delivered")),
    receipt: later("receipt") === "1",
    secret: secretOf(values.get("secret") ?? ""),
    reason: Number(get("reason")) as ReasonCode,
    createdAt: Number(get("created")),
    updatedAt: Number(get("updated")),
    counted: [],
  };
  record.counted = inFlightWith(record);
  return record;
}

/** A stored receipt secret: 64 hex characters, or empty for none. */
function secretOf(text: string): Uint8Array | null {
  if (text === "") return null;
  if (!/^[0-9a-f]{64}$/.test(text)) throw new Error(`a payment's secret is damaged: ${text}`);
  return fromHex(text);
}
