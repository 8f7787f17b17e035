import assert from "node:assert/strict";
import * as api from "../../src/client/commands.ts";
import { type Client, ClientError } from "../../src/client/client.ts";
import { ServerCommand } from "../../src/wire/commands.ts";
import { Status } from "../../src/wire/response.ts";
import type { AccountRef } from "../../src/wire/names.ts";
import { chain, eventually, FAST_LIMITS, LocalNetwork } from "../support/local_network.ts";

const COMPLETED = 6;
const FAILED = 7;

async function settled(client: Client, id: Uint8Array): Promise<number> {
  return await eventually(async () => {
    const { state } = await api.getPayment(client, id);
    return state === COMPLETED || state === FAILED ? state : undefined;
  });
}

Deno.test("a payment crosses a three-hop chain and both sides of every pair agree", async (t) => {
  await using net = new LocalNetwork();
  const [a, b, c, d] = await chain(net, [100n, 100n, 100n]);
  const id = crypto.getRandomValues(new Uint8Array(32));

  await t.step("the seller expects the payment, the buyer pays", async () => {
    await api.newPaymentIn(net.client(d), a, id, 40n);
    await api.newPaymentOut(net.client(a), d, id, 40n);
  });

  await t.step("both ends see it completed", async () => {
    assert.equal(await settled(net.client(a), id), COMPLETED);
    assert.equal(await settled(net.client(d), id), COMPLETED);
  });

  await t.step("every pair's balance agrees and no lock is left", async () => {
    const pairs: [AccountRef, AccountRef][] = [[a, b], [b, c], [c, d]];
    for (const [debtor, creditor] of pairs) {
      const ours = await eventually(async () => {
        const books = await api.getBalance(net.client(debtor), creditor);
        return books.lockedOut === 0n ? books : undefined;
      });
      const theirs = await api.getBalance(net.client(creditor), debtor);
      assert.equal(ours.balance, -40n);
      assert.equal(theirs.balance, 40n);
      assert.equal(theirs.lockedIn, 0n);
    }
  });
});

Deno.test("a payment larger than one trustline on the chain finds no path", async () => {
  await using net = new LocalNetwork();
  const [a, , , d] = await chain(net, [100n, 30n, 100n]);
  const id = crypto.getRandomValues(new Uint8Array(32));
  await api.newPaymentIn(net.client(d), a, id, 40n);
  await api.newPaymentOut(net.client(a), d, id, 40n);
  assert.equal(await settled(net.client(a), id), FAILED);
  assert.equal((await api.getPayment(net.client(a), id)).reason, 1);
});

Deno.test("a path longer than the search's hop limit ends at once with the hop-limit reason, not as timed out", async () => {
  // maxDepth 1: each front explores one hop, so the four hops of this chain are out of
  // reach; the walk is off, so this is the flood alone.
  await using net = new LocalNetwork({
    ...FAST_LIMITS,
    maxDepth: 1,
    labelTrees: 0,
    searchTimeoutMs: 30_000,
  });
  const [a, , , , e] = await chain(net, [100n, 100n, 100n, 100n]);
  const id = crypto.getRandomValues(new Uint8Array(32));
  await api.newPaymentIn(net.client(e), a, id, 10n);
  await api.newPaymentOut(net.client(a), e, id, 10n);
  // Waiting out the 30 s time limit would have failed the payment with reason 2.
  assert.equal(await settled(net.client(a), id), FAILED);
  assert.equal((await api.getPayment(net.client(a), id)).reason, 20);
});

Deno.test("a payment refused as busy leaves no record, and its id can be used later", async () => {
  await using net = new LocalNetwork({ ...FAST_LIMITS, maxSearchesPerAccount: 1 });
  const [a, , , d] = await chain(net, [100n, 100n, 100n]);
  const first = crypto.getRandomValues(new Uint8Array(32));
  const second = crypto.getRandomValues(new Uint8Array(32));
  await api.newPaymentIn(net.client(d), a, first, 10n);
  await assert.rejects(
    api.newPaymentIn(net.client(d), a, second, 10n),
    (error) => error instanceof ClientError && error.status === Status.Busy,
  );
  assert.equal((await api.getPayment(net.client(d), second)).state, 0, "no record of it");
  await api.newPaymentOut(net.client(a), d, first, 10n);
  assert.equal(await settled(net.client(a), first), COMPLETED);
  await eventually(async () =>
    (await api.getPayment(net.client(d), first)).state === COMPLETED || undefined
  );
  // A probe of the first search still on its way may leave state behind the search end,
  // for its time limit; with room for one search per account, wait until it is gone.
  const searching = () =>
    [...net.servers.values()].some((server) => [...server.node.search.table.all()].length > 0);
  await eventually(() => Promise.resolve(searching() ? undefined : true));
  await api.newPaymentIn(net.client(d), a, second, 10n);
  await api.newPaymentOut(net.client(a), d, second, 10n);
  assert.equal(await settled(net.client(a), second), COMPLETED);
});

Deno.test("a lock overtaking the found report towards the seller still passes", async () => {
  await using net = new LocalNetwork();
  const [a, , , d] = await chain(net, [100n, 100n, 100n]);
  // Lose every "found" report of the seller's front: only the buyer's front learns of the path.
  const FRONT_AT = 97 + 40, STATUS_AT = FRONT_AT + 2, FOUND = 5;
  net.drop = (_from, _to, bytes) =>
    bytes[0] === ServerCommand.SearchReport && bytes[FRONT_AT] === 1 && bytes[STATUS_AT] === FOUND;
  const id = crypto.getRandomValues(new Uint8Array(32));
  await api.newPaymentIn(net.client(d), a, id, 25n);
  await api.newPaymentOut(net.client(a), d, id, 25n);
  assert.equal(await settled(net.client(a), id), COMPLETED);
  assert.equal(await settled(net.client(d), id), COMPLETED);
});

Deno.test("a neighbour that never reports a round does not hold the seller's front back: the round goes on without it", async () => {
  // a → b → c → d → e, each front two hops deep, and x, which can pay e, in e's front
  // from its first round but never reports. Before late children, e's second round waited
  // for x for the probe time-out and its resends (1 s, 2 s, 4 s), while a, its own two
  // rounds done in a few milliseconds, gave up with reason 20 long before.
  await using net = new LocalNetwork({
    ...FAST_LIMITS,
    probeTimeoutMs: 1_000,
    maxDepth: 2,
    labelTrees: 0,
    searchTimeoutMs: 30_000,
  });
  const [a, , , , e] = await chain(net, [100n, 100n, 100n, 100n]);
  const x: AccountRef = { username: "x", address: "sx.test" };
  await net.start(x.address);
  await net.account(x);
  await net.peers(x, e);
  await api.setTrustline(net.client(e), x, 100n);
  await eventually(async () =>
    (await api.getTrustlineIn(net.client(x), e)).amount === 100n || undefined
  );
  net.drop = (from, _to, bytes) => from === x.address && bytes[0] === ServerCommand.SearchReport;
  const id = crypto.getRandomValues(new Uint8Array(32));
  await api.newPaymentIn(net.client(e), a, id, 10n);
  // The buyer pays once e's first round has gone out, as a seller's receive comes first.
  await new Promise((resolve) => setTimeout(resolve, 100));
  await api.newPaymentOut(net.client(a), e, id, 10n);
  assert.equal(await settled(net.client(a), id), COMPLETED);
  assert.equal(await settled(net.client(e), id), COMPLETED);
});
