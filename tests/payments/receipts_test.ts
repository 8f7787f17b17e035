/** The seller's receipt (docs/protocol.md §6): no account believes committed without it. */

import assert from "node:assert/strict";
import { newReceipt } from "../../src/auth/receipts.ts";
import { ClientError } from "../../src/client/client.ts";
import * as api from "../../src/client/commands.ts";
import { LABEL_SIZE } from "../../src/wire/layout.ts";
import { readPayment } from "../../src/payments/record.ts";
import { readBooks } from "../../src/store/books.ts";
import { Tx } from "../../src/store/tx.ts";
import { claimArgs, committedArgs } from "../../src/wire/arguments.ts";
import { ServerCommand } from "../../src/wire/commands.ts";
import type { AccountRef } from "../../src/wire/names.ts";
import { Reason } from "../../src/wire/reasons.ts";
import { Status } from "../../src/wire/response.ts";
import { chain, eventually, FAST_LIMITS, LocalNetwork } from "../support/local_network.ts";

const AMOUNT = 40n;
const COMPLETED = 6;
const FAILED = 7;
const NO_LABEL = new Uint8Array(LABEL_SIZE);

/** a@s1 → b@s2 → c@s3, each trusting the next for 100, and readers of their records and books. */
async function setUp(net: LocalNetwork) {
  const accounts = await chain(net, [100n, 100n]);
  const store = (at: AccountRef) => net.servers.get(at.address)!.node.store;
  const record = (at: AccountRef, id: Uint8Array) =>
    readPayment(new Tx(store(at)), at.username, hex(id));
  const books = (at: AccountRef, peer: AccountRef) =>
    readBooks(new Tx(store(at)), at.username, peer);
  return { accounts, record, books };
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function ended(net: LocalNetwork, at: AccountRef, id: Uint8Array) {
  return await eventually(async () => {
    const status = await api.getPayment(net.client(at), id);
    return status.state === COMPLETED || status.state === FAILED ? status : undefined;
  });
}

Deno.test("a payment with the seller's receipt completes, and every account on the path keeps the secret", async () => {
  await using net = new LocalNetwork(FAST_LIMITS);
  const { accounts: [a, b, c], record } = await setUp(net);
  const { secret, id } = newReceipt();
  await api.newPaymentIn(net.client(c), a, id, AMOUNT, secret);
  await api.newPaymentOut(net.client(a), c, id, AMOUNT, NO_LABEL, true);
  assert.equal((await ended(net, a, id)).state, COMPLETED);
  assert.equal((await ended(net, c, id)).state, COMPLETED);
  for (const at of [a, b, c]) {
    const kept = (await record(at, id))!;
    assert.deepEqual(kept.secret, secret, `${at.username} keeps the secret`);
  }
  assert.equal((await record(a, id))!.receipt, true, "the buyer demanded it");
  assert.deepEqual((await api.getPayment(net.client(a), id)).receipt, secret, "client 7 shows it");
  assert.equal((await record(b, id))!.receipt, true, "the commit passed the demand down");
});

Deno.test("a committed or claim without the seller's secret is not believed; with it, it is", async (t) => {
  await using net = new LocalNetwork(FAST_LIMITS);
  const { accounts: [a, b, c], record, books } = await setUp(net);
  // The seller takes the commit, but nothing it says after that arrives: what b hears of c
  // from then on is forged below.
  net.drop = (from, _to, bytes) =>
    from === c.address && bytes[0] >= ServerCommand.Committed &&
    bytes[0] !== ServerCommand.SearchEnd;
  const { secret, id } = newReceipt();
  await api.newPaymentIn(net.client(c), a, id, AMOUNT, secret);
  await api.newPaymentOut(net.client(a), c, id, AMOUNT, NO_LABEL, true);
  await eventually(async () => (await record(c, id))?.irrevocable || undefined);
  await eventually(async () => (await record(b, id))?.state === "committed" || undefined);
  assert.equal((await api.getPayment(net.client(a), id)).receipt, null, "not yet a receipt");

  await t.step(
    "a committed with no secret, or with one that is not the id's, changes nothing",
    async () => {
      for (const wrong of [new Uint8Array(32), crypto.getRandomValues(new Uint8Array(32))]) {
        await net.inject(
          c,
          b,
          ServerCommand.Committed,
          committedArgs.encode({ id, amount: AMOUNT, secret: wrong }),
        );
        const hop = (await record(b, id))!;
        assert.deepEqual([hop.state, hop.irrevocable, hop.secret], ["committed", false, null]);
      }
      const claim = claimArgs.encode({
        id,
        amount: AMOUNT,
        released: 0n,
        secret: new Uint8Array(32),
      });
      await net.inject(c, b, ServerCommand.Claim, claim);
      const hop = (await record(b, id))!;
      assert.deepEqual([hop.state, hop.irrevocable], ["committed", false]);
      assert.equal((await books(b, c)).lockedOut, AMOUNT, "b's lock towards c stays a lock");
      assert.equal((await record(a, id))!.state, "committed", "the buyer has not paid");
    },
  );
  await t.step(
    "the seller's secret makes b irrevocable, and the buyer completes with it",
    async () => {
      await net.inject(
        c,
        b,
        ServerCommand.Committed,
        committedArgs.encode({ id, amount: AMOUNT, secret }),
      );
      assert.equal((await record(b, id))!.irrevocable, true);
      assert.equal((await ended(net, a, id)).state, COMPLETED);
      assert.deepEqual((await record(a, id))!.secret, secret);
    },
  );
});

Deno.test("a seller whose id was not made from a secret refuses a commit that demands the receipt", async () => {
  await using net = new LocalNetwork(FAST_LIMITS);
  const { accounts: [a, b, c], books } = await setUp(net);
  const id = crypto.getRandomValues(new Uint8Array(32));
  await api.newPaymentIn(net.client(c), a, id, AMOUNT);
  await api.newPaymentOut(net.client(a), c, id, AMOUNT, NO_LABEL, true);
  const status = await ended(net, a, id);
  assert.deepEqual([status.state, status.reason], [FAILED, Reason.NoReceipt]);
  assert.equal((await ended(net, c, id)).state, FAILED);
  await eventually(async () => {
    const sides = [await books(a, b), await books(b, a), await books(b, c), await books(c, b)];
    return sides.every((s) => s.balance === 0n && s.lockedIn === 0n && s.lockedOut === 0n) ||
      undefined;
  });
});

Deno.test("a seller's secret whose SHA-256 is not the payment id is refused as malformed", async () => {
  await using net = new LocalNetwork(FAST_LIMITS);
  const { accounts: [a, , c], record } = await setUp(net);
  const { secret } = newReceipt();
  const id = crypto.getRandomValues(new Uint8Array(32));
  await assert.rejects(
    api.newPaymentIn(net.client(c), a, id, AMOUNT, secret),
    (error) => error instanceof ClientError && error.status === Status.Malformed,
  );
  assert.equal(await record(c, id), undefined, "nothing was started");
});
