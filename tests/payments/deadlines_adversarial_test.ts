/**
 * Adversarial cases of the deadlines after the commit (docs/protocol.md §9): releases, claims
 * and finalizes that come early, late, from a hostile neighbour, or meet a lost datagram.
 */

import assert from "node:assert/strict";
import { toHex } from "../../src/auth/keys.ts";
import * as api from "../../src/client/commands.ts";
import type { Limits } from "../../src/core/config.ts";
import { readPayment } from "../../src/payments/record.ts";
import { readBooks } from "../../src/store/books.ts";
import { Tx } from "../../src/store/tx.ts";
import { commitArgs, paymentArgs, releasedArgs } from "../../src/wire/arguments.ts";
import { ServerCommand } from "../../src/wire/commands.ts";
import type { AccountRef } from "../../src/wire/names.ts";
import { chain, eventually, FAST_LIMITS, LocalNetwork } from "../support/local_network.ts";

/** As in deadlines_test.ts: a 2 s deadline, released over 1 s in chunks of 0.2 s. */
const SHORT: Partial<Limits> = {
  ...FAST_LIMITS,
  commitDeadlineMs: 2_000,
  commitMarginMs: 100,
  releasePeriodMs: 1_000,
  releaseChunkMs: 200,
  releaseGraceMs: 0,
  queryRetryMaxMs: 100,
};
const AMOUNT = 40n;

/** a@s1 → b@s2 → c@s3, each trusting the next for 100, with readers of books and records. */
async function setUp(net: LocalNetwork) {
  const [a, b, c] = await chain(net, [100n, 100n]);
  const node = (at: AccountRef) => net.servers.get(at.address)!.node;
  const books = (at: AccountRef, peer: AccountRef) =>
    readBooks(new Tx(node(at).store), at.username, peer);
  const record = (at: AccountRef, id: Uint8Array) =>
    readPayment(new Tx(node(at).store), at.username, toHex(id));
  /** Delivers a datagram `from` would sign to `to`, as a hostile `from` could, and waits for it. */
  const forge = async (from: AccountRef, to: AccountRef, command: number, args: Uint8Array) => {
    await node(to).receive(await net.forge(from, to, command, args));
    await node(to).store.barrier();
  };
  return { a, b, c, books, record, forge };
}

async function pay(net: LocalNetwork, buyer: AccountRef, seller: AccountRef): Promise<Uint8Array> {
  const id = crypto.getRandomValues(new Uint8Array(32));
  await api.newPaymentIn(net.client(seller), buyer, id, AMOUNT);
  await api.newPaymentOut(net.client(buyer), seller, id, AMOUNT);
  return id;
}

/** Datagrams from `address` with a payment command at or after committed (not search ones). */
const afterCommitFrom = (address: string, from: string, bytes: Uint8Array) =>
  from === address && bytes[0] >= ServerCommand.Committed && bytes[0] !== ServerCommand.SearchEnd;

/** Where a datagram's 256 bytes of arguments start. */
const ARGUMENTS_AT = 97;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("an upstream that answers a claim only after the release period cannot take back the claimed amount", async () => {
  await using net = new LocalNetwork(SHORT);
  const { a, b, c, books, record, forge } = await setUp(net);
  // a never finalizes towards b and does not answer b's claim: b claims at its claim time.
  net.drop = (from, _to, bytes) =>
    from === a.address &&
    (bytes[0] === ServerCommand.Finalize || bytes[0] === ServerCommand.Settled);
  const id = await pay(net, a, c);
  const claimed = await eventually(async () => {
    const r = await record(b, id);
    return r?.claimed && r.state === "completed" ? r : undefined;
  });
  assert.equal((await books(b, a)).balance, AMOUNT, "b's claim took the whole amount");
  // Long after the claim, a answers it: everything was released, it says.
  const lockedAt = claimed.lockExpires - SHORT.lockTimeoutMs!;
  const boundFull = lockedAt + (claimed.deadline - claimed.committedAt) + claimed.releaseMs + 200;
  await sleep(Math.max(0, boundFull - Date.now()));
  await forge(
    a,
    b,
    ServerCommand.Settled,
    releasedArgs.encode({ id, amount: AMOUNT, released: AMOUNT }),
  );
  assert.equal(
    (await books(b, a)).balance,
    AMOUNT,
    "an answer to a claim sent at the claim time cannot release what a could only release days later",
  );
});

Deno.test("a hop never lets its upstream's release get ahead of its own release towards the downstream", async () => {
  await using net = new LocalNetwork(SHORT);
  const { a, b, c, books, record, forge } = await setUp(net);
  net.drop = (from, _to, bytes) => afterCommitFrom(c.address, from, bytes);
  const id = await pay(net, a, c);
  await eventually(async () => ((await record(b, id))?.releasedOut ?? 0n) > 0n || undefined);
  // a releases as much as b's bound takes; c, silent until now, then says it holds the commit.
  await forge(
    a,
    b,
    ServerCommand.Release,
    releasedArgs.encode({ id, amount: AMOUNT, released: AMOUNT }),
  );
  await forge(c, b, ServerCommand.Committed, paymentArgs.encode({ id, amount: AMOUNT }));
  await eventually(async () => (await record(b, id))?.state === "completed" || undefined);
  const atB = (await record(b, id))!;
  const net_b = (await books(b, a)).balance + (await books(b, c)).balance;
  assert.ok(
    atB.releasedOut >= atB.releasedIn && net_b >= 0n,
    `b took ${atB.releasedIn} released from a but released only ${atB.releasedOut} to c: b is at ${net_b}`,
  );
});

Deno.test("a hop with a coarser release chunk than its upstream still releases at least as much as it is released", async () => {
  await using net = new LocalNetwork(SHORT);
  const { a, b, c, books, record } = await setUp(net);
  // Each server chooses its own release_chunk_ms; the commit does not carry it.
  net.servers.get(a.address)!.node.limits.releaseChunkMs = 50;
  net.servers.get(b.address)!.node.limits.releaseChunkMs = 500;
  let silent = true;
  net.drop = (from, _to, bytes) => silent && afterCommitFrom(c.address, from, bytes);
  const id = await pay(net, a, c);
  // a has released something towards b; c's stall ends now.
  await eventually(async () => ((await record(b, id))?.releasedIn ?? 0n) > 0n || undefined);
  silent = false;
  await eventually(async () => (await record(b, id))?.state === "completed" || undefined, 5_000);
  const atB = (await record(b, id))!;
  const net_b = (await books(b, a)).balance + (await books(b, c)).balance;
  assert.ok(
    net_b >= 0n,
    `b was released ${atB.releasedIn} by a and released ${atB.releasedOut} to c: b, who waited, is at ${net_b}`,
  );
});

Deno.test("a finalize from an upstream before the downstream said committed does not make the hop pay a downstream that never took the commit", async () => {
  await using net = new LocalNetwork(SHORT);
  const { a, b, c, books, record, forge } = await setUp(net);
  // b's commit never reaches c, which stays locked and lets its lock expire.
  net.drop = (from, to, bytes) =>
    from === b.address && to === c.address && bytes[0] === ServerCommand.Commit;
  const id = await pay(net, a, c);
  await eventually(async () => (await record(b, id))?.state === "committed" || undefined);
  // A hostile a finalizes at once, as if the seller held the commit.
  await forge(
    a,
    b,
    ServerCommand.Finalize,
    releasedArgs.encode({ id, amount: AMOUNT, released: 0n }),
  );
  await eventually(async () => (await record(c, id))?.state === "failed" || undefined);
  await eventually(async () => {
    const state = (await record(b, id))?.state;
    return state === "completed" || state === "failed" || undefined;
  });
  const [bc, cb] = [await books(b, c), await books(c, b)];
  assert.equal(bc.balance, -cb.balance, "b's and c's books agree on what b owes c");
});

Deno.test("a commit whose release period is zero leaves the books of its downstream and the next account agreeing", async () => {
  await using net = new LocalNetwork(SHORT);
  const { a, b, c, books, record, forge } = await setUp(net);
  // a's own commit is held back; a hostile a sends one with a release period of 0. c stalls.
  net.drop = (from, to, bytes) =>
    (from === a.address && to === b.address && bytes[0] === ServerCommand.Commit) ||
    afterCommitFrom(c.address, from, bytes);
  const id = await pay(net, a, c);
  await eventually(async () => (await record(b, id))?.state === "locked" || undefined);
  const terms = { id, amount: AMOUNT, waitMs: 2_000n, claimMs: 1_000n, releaseMs: 0n };
  await forge(a, b, ServerCommand.Commit, commitArgs.encode(terms));
  await eventually(async () => (await record(b, id))?.state === "failed" || undefined);
  await sleep(300);
  const [bc, cb] = [await books(b, c), await books(c, b)];
  assert.deepEqual(
    [bc.balance, bc.lockedOut],
    [-cb.balance, cb.lockedIn],
    "b released c in full; c must not keep what b no longer owes",
  );
});

Deno.test("when the one release of the whole amount is lost, a downstream that claimed while it stalled still ends at zero towards its failed upstream", async () => {
  await using net = new LocalNetwork(SHORT);
  const { a, b, c, books, record } = await setUp(net);
  // c stalls past b's deadline plus the release period; c takes b's releases in chunks, but
  // b's last one (the whole amount, sent once as b fails) is lost.
  let silent = true;
  const whole = (bytes: Uint8Array) =>
    releasedArgs.decode(bytes.subarray(ARGUMENTS_AT, ARGUMENTS_AT + 256)).released === AMOUNT;
  net.drop = (from, to, bytes) =>
    (silent && afterCommitFrom(c.address, from, bytes)) ||
    (from === b.address && to === c.address && bytes[0] === ServerCommand.Release && whole(bytes));
  const id = await pay(net, a, c);
  await eventually(async () => (await record(b, id))?.state === "failed" || undefined);
  assert.equal((await record(c, id))?.claimed, true, "c claimed while it stalled");
  silent = false;
  assert.ok((await record(c, id))!.releasedIn > 0n, "c took b's releases before the last");
  await eventually(async () => (await books(c, b)).balance === 0n || undefined, 1_000)
    .catch(() => {});
  assert.deepEqual(
    [(await books(c, b)).balance, (await books(b, c)).balance],
    [0n, 0n],
    "b owes c nothing after releasing all of it; c must come to agree",
  );
});
