/** The argument layout of every command, and the body layout of every client answer. */

import { layout } from "./layout.ts";

/** Arguments that carry nothing. */
export const noArgs = layout({});

/** Client 0 set trustline; client 5/6 amounts use {@linkcode paymentArgs}. */
export const amountArgs = layout({ amount: "u64" });
/** Server payment steps that carry only the payment. */
export const paymentArgs = layout({ id: "id", amount: "u64" });
/**
 * Client 5 new payment out: the seller's routing label from its invoice (zeros: none, flood
 * only), and whether the buyer demands the seller's receipt (1) or not (0) (docs/protocol.md §6).
 */
export const paymentOutArgs = layout({
  id: "id",
  amount: "u64",
  label: "label",
  receipt: "u8",
});
/**
 * Client 6 new payment in: the seller's receipt secret, whose SHA-256 is the id (zeros: none;
 * docs/protocol.md §6).
 */
export const paymentInArgs = layout({ id: "id", amount: "u64", secret: "id" });
/** Server 137 committed: the seller's receipt secret once known (zeros: none; §6). */
export const committedArgs = layout({ id: "id", amount: "u64", secret: "id" });
/** Client 20 get label: the account's routing label, to hand to a buyer with the payment id. */
export const labelBody = layout({ label: "label" }, "exact");
/**
 * Server 150 label: the sender's routing label, the coordinate index it gives the receiver
 * in each tree, and whether it holds no label of the receiver (so asks for one).
 */
export const labelArgs = layout({
  label: "label",
  index0: "u32",
  index1: "u32",
  index2: "u32",
  ask: "u8",
});
/**
 * Server 151 walk: a directed walk towards the seller's label, with what is left of its
 * budget and the trees it measures by (a bit mask; 255: all).
 */
export const walkArgs = layout({
  id: "id",
  amount: "u64",
  hops: "u8",
  budget: "u32",
  tree: "u8",
  target: "label",
});
/** Server 152 walk report: found (a path through the sender) or dead (with accounts spent). */
export const walkReportArgs = layout({ id: "id", amount: "u64", status: "u8", spent: "u32" });
/** Client 7 get payment. */
export const paymentIdArgs = layout({ id: "id" });
/** Client 9 list peers, 10 list payments: where the page starts. */
export const pageArgs = layout({ offset: "u32" });

/** Server 128 set trustline: the amount and how many times it was changed. */
export const setTrustlineArgs = layout({ amount: "u64", counter: "u32" });
/** Server 129 get trustline: the counter the asking side holds. */
export const getTrustlineArgs = layout({ syncIn: "u32" });
/** Server 130 set sync out, 131 set timestamp: the counter confirmed. */
export const trustlineCounterArgs = layout({ counter: "u32" });

/** Server 132 search: a probe of one front's round. Front 0 grows from the buyer, 1 from the seller. */
export const searchArgs = layout({ id: "id", amount: "u64", front: "u8", round: "u8" });
/** Server 133 search report: the state of the sender's subtree after a round. */
export const searchReportArgs = layout({
  id: "id",
  amount: "u64",
  front: "u8",
  round: "u8",
  status: "u8",
});
/** Server 142 search end: the sender's part of a front is over; drop yours and pass it on. */
export const searchEndArgs = layout({ id: "id", amount: "u64", front: "u8" });
/**
 * Server 136 commit: the payment, with the durations the receiver measures from its arrival
 * (docs/protocol.md §9): its deadline, its claim time, and the release period; and whether
 * the accounts above demand the seller's receipt (1) before they believe committed (§6).
 */
export const commitArgs = layout({
  id: "id",
  amount: "u64",
  waitMs: "u64",
  claimMs: "u64",
  releaseMs: "u64",
  receipt: "u8",
});
/**
 * Server 139 finalize, 143 release, 145 settled: the payment and the part of its
 * amount released on the edge so far (cumulative; the upstream side decides it).
 */
export const releasedArgs = layout({ id: "id", amount: "u64", released: "u64" });
/** Server 144 claim: as {@linkcode releasedArgs}, with the seller's receipt secret once known (§6). */
export const claimArgs = layout({ id: "id", amount: "u64", released: "u64", secret: "id" });
/** Server 141 abort: the payment and why. */
export const abortArgs = layout({ id: "id", amount: "u64", reason: "u8" });

/** Body of client 3 get trustline in. */
export const trustlineInBody = layout({ amount: "u64", syncIn: "u32", lastSync: "u64" }, "exact");
/** Body of client 4 get trustline out. */
export const trustlineOutBody = layout({ amount: "u64", counter: "u32", syncOut: "u32" }, "exact");
/**
 * Body of client 7 get payment; past the commit, what it waits on (docs/protocol.md §9):
 * `waitKind` 0 nothing, 1 the downstream's answer, 2 the upstream's finalize; and once the
 * account knows the seller holds the commit, the seller's receipt secret (zeros: none; §6).
 */
export const paymentBody = layout({
  state: "u8",
  amount: "u64",
  role: "u8",
  reason: "u8",
  updatedAt: "u64",
  waitKind: "u8",
  waitName: "name",
  waitAddress: "name",
  waitDue: "u64",
  overdue: "u8",
  released: "u64",
  endsBy: "u64",
  secret: "id",
}, "exact");
/** Body of client 8 get balance. */
export const balanceBody = layout(
  { balance: "i64", lockedIn: "u64", lockedOut: "u64" },
  "exact",
);
/** Body of a replay answer: the last counter the server accepted. */
export const replayBody = layout({ counter: "u32" }, "exact");

/** Header of a page of a list (client 9 list peers, 10 list payments): entries follow. */
export const pageHeader = layout({ total: "u32", count: "u32" }, "exact");
/** One entry of client 9 list peers. */
export const peerEntry = layout({
  username: "name",
  address: "name",
  trustlineOut: "u64",
  trustlineIn: "u64",
  balance: "i64",
}, "exact");
/** One entry of client 10 list payments; the counterpart is empty for a payment on the way. */
export const paymentEntry = layout({
  id: "id",
  state: "u8",
  role: "u8",
  reason: "u8",
  amount: "u64",
  counterpartName: "name",
  counterpartAddress: "name",
  updatedAt: "u64",
}, "exact");
/** Body of client 11 server info: how amounts are shown, and the server's own address. */
export const serverInfoBody = layout({ decimals: "u8", unit: "name", address: "name" }, "exact");
/** Entries in one page of a list. */
export const PAGE_SIZE = 100;
