import assert from "node:assert/strict";
import * as api from "../../src/client/commands.ts";
import type { Limits } from "../../src/core/config.ts";
import { readPayment } from "../../src/payments/record.ts";
import { readBooks } from "../../src/store/books.ts";
import { Tx } from "../../src/store/tx.ts";
import { commitArgs, paymentArgs, releasedArgs } from "../../src/wire/arguments.ts";
import { ServerCommand } from "../../src/wire/commands.ts";
import type { AccountRef } from "../../src/wire/names.ts";
import { Reason } from "../../src/wire/reasons.ts";
import { chain, eventually, FAST_LIMITS, LocalNetwork } from "../support/local_network.ts";

/** Deadlines of seconds instead of hours: a 2 s deadline, released over 1 s in chunks of 0.2 s. */
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
const COMPLETED = 6;
const FAILED = 7;

/** a@s1 → b@s2 → c@s3, each trusting the next for 100; the payment's id and a reader of the books. */
async function setUp(net: LocalNetwork) {
  const accounts = await chain(net, [100n, 100n]);
  const books = (at: AccountRef, peer: AccountRef) =>
    readBooks(new Tx(net.servers.get(at.address)!.node.store), at.username, peer);
  const record = (at: AccountRef, id: Uint8Array) =>
    readPayment(
      new Tx(net.servers.get(at.address)!.node.store),
      at.username,
      [...id].map((b) => b.toString(16).padStart(2, "0")).join(""),
    );
  return { accounts, books, record };
}

async function pay(net: LocalNetwork, buyer: AccountRef, seller: AccountRef): Promise<Uint8Array> {
  const id = crypto.getRandomValues(new Uint8Array(32));
  await api.newPaymentIn(net.client(seller), buyer, id, AMOUNT);
  await api.newPaymentOut(net.client(buyer), seller, id, AMOUNT);
  return id;
}

async function ended(net: LocalNetwork, at: AccountRef, id: Uint8Array, timeoutMs = 10_000) {
  return await eventually(async () => {
    const status = await api.getPayment(net.client(at), id);
    return status.state === COMPLETED || status.state === FAILED ? status : undefined;
  }, timeoutMs);
}

/** The seller's server answers nothing of a payment after its commit (it stalls). */
const SELLER_SILENT = (from: string, bytes: Uint8Array) =>
  from === "s3.test" && bytes[0] >= ServerCommand.Committed && bytes[0] !== ServerCommand.SearchEnd;

Deno.test("a downstream silent after the commit is released in chunks, and at the whole amount the payment fails with books at zero", async (t) => {
  await using net = new LocalNetwork(SHORT);
  const { accounts: [a, b, c], books, record } = await setUp(net);
  net.drop = (from, _to, bytes) => SELLER_SILENT(from, bytes);
  const id = await pay(net, a, c);

  await t.step("past b's deadline, b's lock towards c shrinks chunk by chunk", async () => {
    const partly = await eventually(async () => {
      const locked = (await books(b, c)).lockedOut;
      return locked > 0n && locked < AMOUNT ? locked : undefined;
    });
    assert.ok(partly < AMOUNT);
  });
  await t.step("the buyer learns why, and b's record failed too", async () => {
    const status = await ended(net, a, id);
    assert.deepEqual([status.state, status.reason], [FAILED, Reason.Released]);
    assert.equal((await record(b, id))?.state, "failed");
  });
  await t.step("every pair's books agree at zero, the silent seller's too", async () => {
    await eventually(async () => {
      const sides = [
        await books(a, b),
        await books(b, a),
        await books(b, c),
        await books(c, b),
      ];
      const zero = sides.every((s) => s.balance === 0n && s.lockedIn === 0n && s.lockedOut === 0n);
      return zero || undefined;
    });
  });
});

Deno.test("a stall that ends during the release settles at the state reached: the one who stalled pays", async () => {
  await using net = new LocalNetwork(SHORT);
  const { accounts: [a, b, c], books, record } = await setUp(net);
  let silent = true;
  net.drop = (from, _to, bytes) => silent && SELLER_SILENT(from, bytes);
  const id = await pay(net, a, c);
  await eventually(async () => ((await record(b, id))?.releasedOut ?? 0n) > 0n || undefined);
  silent = false;
  for (const account of [a, c]) assert.equal((await ended(net, account, id)).state, COMPLETED);
  await eventually(async () => (await record(b, id))?.state === "completed" || undefined);

  const atB = (await record(b, id))!;
  const atA = (await record(a, id))!;
  assert.ok(atB.releasedOut > 0n, "b released part of the payment towards c");
  assert.ok(atB.releasedOut >= atA.releasedOut, "b released at least as much as a did to b");
  const [ab, ba, bc, cb] = [
    await books(a, b),
    await books(b, a),
    await books(b, c),
    await books(c, b),
  ];
  assert.deepEqual([ab.balance, ba.balance], [
    -(AMOUNT - atA.releasedOut),
    AMOUNT - atA.releasedOut,
  ]);
  assert.deepEqual([bc.balance, cb.balance], [
    -(AMOUNT - atB.releasedOut),
    AMOUNT - atB.releasedOut,
  ]);
  assert.ok(ba.balance + bc.balance >= 0n, "b, who waited, does not lose");
  assert.equal(ab.lockedOut + ba.lockedIn + bc.lockedOut + cb.lockedIn, 0n);
});

Deno.test("an irrevocable hop whose upstream never finalizes claims it at its claim time", async () => {
  await using net = new LocalNetwork(SHORT);
  const { accounts: [a, b, c], books, record } = await setUp(net);
  // a's finalize never reaches b: a has turned its side into balance, b waits on a.
  net.drop = (from, _to, bytes) => from === "s1.test" && bytes[0] === ServerCommand.Finalize;
  const id = await pay(net, a, c);
  for (const account of [b, c]) assert.equal((await ended(net, account, id)).state, COMPLETED);
  const atB = (await record(b, id))!;
  assert.ok(Date.now() >= atB.claimAt, "b completed only once its claim time had come");
  await eventually(async () => (await record(b, id))?.claimed === false || undefined);
  const [ab, ba, bc, cb] = [
    await books(a, b),
    await books(b, a),
    await books(b, c),
    await books(c, b),
  ];
  assert.deepEqual([ab.balance, ba.balance, bc.balance, cb.balance], [
    -AMOUNT,
    AMOUNT,
    -AMOUNT,
    AMOUNT,
  ]);
});

Deno.test("below a hop that stalls once the payment is irrevocable, every edge but the staller's own is finalized at once", async () => {
  // A claim time of 30 s: what is finalized within the 10 s of `ended` was not claimed.
  await using net = new LocalNetwork({ ...SHORT, commitDeadlineMs: 60_000 });
  const accounts = await chain(net, [100n, 100n, 100n]);
  const [a, b, c, d] = accounts;
  const store = (at: AccountRef) => new Tx(net.servers.get(at.address)!.node.store);
  // b holds the payment up once it knows the seller has it: nothing of it leaves s2 after that.
  net.drop = (from, _to, bytes) =>
    from === "s2.test" && bytes[0] >= ServerCommand.Committed &&
    bytes[0] !== ServerCommand.SearchEnd && bytes[0] !== ServerCommand.Waiting;
  const id = await pay(net, a, d);
  const idHex = [...id].map((x) => x.toString(16).padStart(2, "0")).join("");

  assert.equal((await ended(net, d, id)).state, COMPLETED, "the seller is paid at once");
  const atC = (await eventually(async () => {
    const record = await readPayment(store(c), c.username, idHex);
    return record?.state === "committed" ? record : undefined;
  }))!;
  assert.ok(Date.now() < atC.claimAt, "before c's claim time");
  assert.deepEqual([atC.irrevocable, atC.inEdge, atC.outEdge], [true, "locked", "done"]);
  const [cd, dc, cb] = [
    await readBooks(store(c), c.username, d),
    await readBooks(store(d), d.username, c),
    await readBooks(store(c), c.username, b),
  ];
  assert.deepEqual([cd.balance, cd.lockedOut, dc.balance, dc.lockedIn], [-AMOUNT, 0n, AMOUNT, 0n]);
  assert.equal(cb.lockedIn, AMOUNT, "only the edge with the staller waits for c's claim");
});

Deno.test("an upstream that says it released more than it could have by now is taken at the bound", async () => {
  await using net = new LocalNetwork(SHORT);
  const { accounts: [a, b, c], books, record } = await setUp(net);
  // b's own finalize never reaches c; b's forged one says all of it was released, at once.
  net.drop = (from, _to, bytes) => from === "s2.test" && bytes[0] === ServerCommand.Finalize;
  const id = await pay(net, a, c);
  await eventually(async () => (await record(c, id))?.irrevocable || undefined);
  const cNode = net.servers.get(c.address)!.node;
  const args = releasedArgs.encode({ id, amount: AMOUNT, released: AMOUNT });
  await cNode.receive(await net.forge(b, c, ServerCommand.Finalize, args));
  await cNode.store.barrier();
  assert.equal((await record(c, id))?.state, "completed");
  assert.equal(
    (await books(c, b)).balance,
    AMOUNT,
    "c takes the whole amount: b released nothing yet",
  );
  assert.ok(net.servers.get(c.address)!.logs.some((l) => l.includes("release-above-bound")));
});

// Adversarial cases: releases, claims and finalizes that come early, late, from a hostile
// neighbour, or meet a lost datagram.

/** Where a datagram's 256 bytes of arguments start. */
const ARGUMENTS_AT = 97;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("an upstream that answers a claim only after the release period cannot take back the claimed amount", async () => {
  await using net = new LocalNetwork(SHORT);
  const { accounts: [a, b, c], books, record } = await setUp(net);
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
  await net.inject(
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
  const { accounts: [a, b, c], books, record } = await setUp(net);
  net.drop = (from, _to, bytes) => SELLER_SILENT(from, bytes);
  const id = await pay(net, a, c);
  await eventually(async () => ((await record(b, id))?.releasedOut ?? 0n) > 0n || undefined);
  // a releases as much as b's bound takes; c, silent until now, then says it holds the commit.
  await net.inject(
    a,
    b,
    ServerCommand.Release,
    releasedArgs.encode({ id, amount: AMOUNT, released: AMOUNT }),
  );
  await net.inject(c, b, ServerCommand.Committed, paymentArgs.encode({ id, amount: AMOUNT }));
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
  const { accounts: [a, b, c], books, record } = await setUp(net);
  // Each server chooses its own release_chunk_ms; the commit does not carry it.
  net.servers.get(a.address)!.node.limits.releaseChunkMs = 50;
  net.servers.get(b.address)!.node.limits.releaseChunkMs = 500;
  let silent = true;
  net.drop = (from, _to, bytes) => silent && SELLER_SILENT(from, bytes);
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
  const { accounts: [a, b, c], books, record } = await setUp(net);
  // b's commit never reaches c, which stays locked and lets its lock expire.
  net.drop = (from, to, bytes) =>
    from === b.address && to === c.address && bytes[0] === ServerCommand.Commit;
  const id = await pay(net, a, c);
  await eventually(async () => (await record(b, id))?.state === "committed" || undefined);
  // A hostile a finalizes at once, as if the seller held the commit.
  await net.inject(
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
  const { accounts: [a, b, c], books, record } = await setUp(net);
  // a's own commit is held back; a hostile a sends one with a release period of 0. c stalls.
  net.drop = (from, to, bytes) =>
    (from === a.address && to === b.address && bytes[0] === ServerCommand.Commit) ||
    SELLER_SILENT(from, bytes);
  const id = await pay(net, a, c);
  await eventually(async () => (await record(b, id))?.state === "locked" || undefined);
  const terms = { id, amount: AMOUNT, waitMs: 2_000n, claimMs: 1_000n, releaseMs: 0n, receipt: 0 };
  await net.inject(a, b, ServerCommand.Commit, commitArgs.encode(terms));
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
  const { accounts: [a, b, c], books, record } = await setUp(net);
  // c stalls past b's deadline plus the release period; c takes b's releases in chunks, but
  // b's last one (the whole amount, sent once as b fails) is lost.
  let silent = true;
  const whole = (bytes: Uint8Array) =>
    releasedArgs.decode(bytes.subarray(ARGUMENTS_AT, ARGUMENTS_AT + 256)).released === AMOUNT;
  net.drop = (from, to, bytes) =>
    (silent && SELLER_SILENT(from, bytes)) ||
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
