import assert from "node:assert/strict";
import * as api from "../../src/client/commands.ts";
import type { Limits } from "../../src/core/config.ts";
import { readPayment } from "../../src/payments/record.ts";
import { readBooks } from "../../src/store/books.ts";
import { Tx } from "../../src/store/tx.ts";
import { releasedArgs } from "../../src/wire/arguments.ts";
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
