import assert from "node:assert/strict";
import { toHex } from "../../src/auth/keys.ts";
import * as api from "../../src/client/commands.ts";
import { type Limits, peerLimitsKey } from "../../src/core/config.ts";
import { readBooks, readInFlight } from "../../src/store/books.ts";
import { Tx } from "../../src/store/tx.ts";
import { paymentArgs, searchArgs } from "../../src/wire/arguments.ts";
import { ServerCommand } from "../../src/wire/commands.ts";
import { type AccountRef, formatAccountRef } from "../../src/wire/names.ts";
import { Reason } from "../../src/wire/reasons.ts";
import type { Node } from "../../src/server/node.ts";
import { chain, eventually, FAST_LIMITS, LocalNetwork } from "../support/local_network.ts";

const COMPLETED = 6;
const FAILED = 7;

/** Starts a payment of `amount` from `buyer` to `seller` and returns its id. */
async function pay(net: LocalNetwork, buyer: AccountRef, seller: AccountRef, amount: bigint) {
  const id = crypto.getRandomValues(new Uint8Array(32));
  await api.newPaymentIn(net.client(seller), buyer, id, amount);
  await api.newPaymentOut(net.client(buyer), seller, id, amount);
  return id;
}

/** The buyer's final state and reason. */
async function ended(net: LocalNetwork, buyer: AccountRef, id: Uint8Array) {
  return await eventually(async () => {
    const status = await api.getPayment(net.client(buyer), id);
    return status.state === COMPLETED || status.state === FAILED ? status : undefined;
  });
}

/** The state of `id` at account `at`. */
async function stateAt(net: LocalNetwork, at: AccountRef, id: Uint8Array): Promise<number> {
  return (await api.getPayment(net.client(at), id)).state;
}

const LOCKING = 3;

Deno.test("a payment passing through may use half of each trustline; the account's own payments all of it", async (t) => {
  await using net = new LocalNetwork();
  const [a, b, c] = await chain(net, [100n, 100n]);

  await t.step("a payment of 60 through b finds no path, with a reason in words", async () => {
    const status = await ended(net, a, await pay(net, a, c, 60n));
    assert.equal(status.reason, Reason.PeerLimits);
  });
  await t.step("b pays c 60 of its own: the whole trustline is b's to use", async () => {
    assert.equal((await ended(net, b, await pay(net, b, c, 60n))).state, COMPLETED);
  });
  await t.step("a payment of 40 through b completes, within half and what is left", async () => {
    assert.equal((await ended(net, a, await pay(net, a, c, 40n))).state, COMPLETED);
    const books = await readBooks(new Tx(net.servers.get(b.address)!.node.store), b.username, c);
    assert.equal(books.balance, -100n);
  });
});

Deno.test("a per-peer override raises the share for one neighbour", async () => {
  const overrides = new Map([
    [peerLimitsKey("b", "a@s1.test"), { peerLockSharePercent: 100 }],
    [peerLimitsKey("*", "c@s3.test"), { peerLockSharePercent: 100 }],
  ]);
  await using net = new LocalNetwork({ ...FAST_LIMITS, peerOverrides: overrides });
  const [a, , c] = await chain(net, [100n, 100n]);
  assert.equal((await ended(net, a, await pay(net, a, c, 80n))).state, COMPLETED);
});

/**
 * Holds the payments passing b on its way to c (b's lock to c is dropped) so that they stay
 * in flight at b; `held` lets the tests hold the buyer's own lock to b as well.
 */
function holdAtB(net: LocalNetwork, accounts: AccountRef[], held: Set<string>): void {
  const [a, b, c] = accounts;
  net.drop = (from, to, bytes) =>
    bytes[0] === ServerCommand.Lock &&
    ((from === b.address && to === c.address) ||
      (from === a.address && to === b.address && held.has(toHex(bytes.subarray(97, 129)))));
}

async function lockRefusedAtB(
  limits: Partial<Limits>,
  amounts: [bigint, bigint],
): Promise<{ reason: number; logs: string[]; bBooks: { lockedIn: bigint; inFlight: number } }> {
  await using net = new LocalNetwork({ ...FAST_LIMITS, ...limits });
  const accounts = await chain(net, [100n, 100n]);
  const [a, b, c] = accounts;
  const held = new Set<string>();
  holdAtB(net, accounts, held);
  // The first payment is searched while b has room, and its lock is held back ...
  const first = crypto.getRandomValues(new Uint8Array(32));
  held.add(toHex(first));
  await api.newPaymentIn(net.client(c), a, first, amounts[0]);
  await api.newPaymentOut(net.client(a), c, first, amounts[0]);
  await eventually(async () => (await stateAt(net, a, first)) === LOCKING || undefined);
  // ... while a second one takes the room at b.
  const second = await pay(net, a, c, amounts[1]);
  await eventually(async () => (await stateAt(net, b, second)) === LOCKING || undefined);
  held.clear();
  const status = await ended(net, a, first);
  const tx = new Tx(net.servers.get(b.address)!.node.store);
  return {
    reason: status.reason,
    logs: net.servers.get(b.address)!.logs,
    bBooks: {
      lockedIn: (await readBooks(tx, b.username, a)).lockedIn,
      inFlight: await readInFlight(tx, b.username, a),
    },
  };
}

Deno.test("a lock that would hold more than the neighbour's share is refused, and the buyer learns why", async () => {
  const { reason, logs, bBooks } = await lockRefusedAtB({}, [30n, 30n]);
  assert.equal(reason, Reason.PeerCreditLimit);
  assert.equal(bBooks.lockedIn, 30n, "only the second payment's lock is held at b");
  const line = logs.find((l) => l.includes("lock-refused-limit"));
  assert.ok(line, "the refusal is logged");
  assert.match(line, /neighbour=a@s1\.test/);
});

Deno.test("a lock beyond the payments in flight with one neighbour is refused, and the buyer learns why", async () => {
  const { reason, logs, bBooks } = await lockRefusedAtB({ peerPaymentsInFlight: 1 }, [10n, 10n]);
  assert.equal(reason, Reason.PeerPaymentsLimit);
  assert.equal(bBooks.inFlight, 1, "b counts one payment in flight with a");
  assert.ok(logs.some((l) => l.includes("lock-refused-limit") && l.includes("payments in flight")));
});

Deno.test("the count of payments in flight with a neighbour follows the records, and ends at zero", async () => {
  await using net = new LocalNetwork();
  const accounts = await chain(net, [100n, 100n]);
  const [a, b, c] = accounts;
  holdAtB(net, accounts, new Set());
  const ids = [await pay(net, a, c, 5n), await pay(net, a, c, 5n)];
  const bTx = () => new Tx(net.servers.get(b.address)!.node.store);
  for (const id of ids) {
    await eventually(async () => (await stateAt(net, b, id)) === LOCKING || undefined);
  }
  assert.deepEqual(
    [await readInFlight(bTx(), b.username, a), await readInFlight(bTx(), b.username, c)],
    [2, 2],
  );
  for (const id of ids) assert.equal((await ended(net, a, id)).reason, Reason.LockExpired);
  await eventually(async () =>
    (await readInFlight(bTx(), b.username, a)) + (await readInFlight(bTx(), b.username, c)) ===
      0 || undefined
  );
});

Deno.test("one neighbour opens at most its share of searches; the account's own payments and other neighbours still get slots", async (t) => {
  await using net = new LocalNetwork({
    ...FAST_LIMITS,
    maxSearchesPerAccount: 4,
    peerSearches: 2,
    ownSearchesReserved: 1,
  });
  // b has three peers: a (the flooder), c and d.
  const [a, b, c] = await chain(net, [100n, 100n]);
  const d = { username: "d", address: c.address };
  await net.account(d);
  await net.peers(b, d);
  await api.setTrustline(net.client(b), d, 100n);
  const bNode = net.servers.get(b.address)!.node;
  const probe = async (from: AccountRef) => {
    const args = searchArgs.encode({
      id: crypto.getRandomValues(new Uint8Array(32)),
      amount: 1n,
      front: 0,
      round: 1,
    });
    await bNode.receive(await net.forge(from, b, ServerCommand.Search, args));
    await bNode.store.barrier();
  };
  const held = () => bNode.search.table.openedBy(b.username, a);

  await t.step("a's probes beyond its share of 2 are refused and logged", async () => {
    for (let i = 0; i < 5; i++) await probe(a);
    assert.equal(held(), 2);
    const refusals = net.servers.get(b.address)!.logs.filter((l) =>
      l.includes("search-refused-limit") && l.includes(`neighbour=${formatAccountRef(a)}`)
    );
    assert.equal(refusals.length, 3);
  });
  await t.step("another neighbour still opens one; then the last slot is kept for b", async () => {
    await probe(d);
    await probe(d);
    assert.equal(bNode.search.table.openedBy(b.username, d), 1, "neighbours share 3 of 4 slots");
  });
  await t.step("b's own payment takes the reserved slot", async () => {
    const id = crypto.getRandomValues(new Uint8Array(32));
    await api.newPaymentIn(net.client(b), a, id, 1n);
    assert.equal((await api.getPayment(net.client(b), id)).state, 1, "b's payment is searching");
  });
});

const COMMITTED = 4;

Deno.test("a neighbour that stalls payments after the commit uses up only its own count of payments in flight, not that of the honest edge they came by", async () => {
  await using net = new LocalNetwork({ ...FAST_LIMITS, peerPaymentsInFlight: 2 });
  // a → b → c → d, and e, another peer of c that trusts it. d is hostile: as the seller it
  // holds the commit and never answers, for as long as the deadlines let it (hours).
  const [a, b, c, d] = await chain(net, [100n, 100n, 100n]);
  const e = { username: "e", address: "s5.test" };
  await net.start(e.address);
  await net.account(e);
  await net.peers(c, e);
  await api.setTrustline(net.client(e), c, 100n);
  await eventually(async () =>
    (await api.getTrustlineIn(net.client(c), e)).amount === 100n || undefined
  );
  net.drop = (from, _to, bytes) =>
    from === d.address && bytes[0] >= ServerCommand.Committed &&
    bytes[0] !== ServerCommand.SearchEnd;
  // Two payments of 1 to d: the cheapest way to fill c's count with b.
  for (let i = 0; i < 2; i++) {
    const id = await pay(net, a, d, 1n);
    await eventually(async () => (await stateAt(net, c, id)) === COMMITTED || undefined);
  }
  const cTx = new Tx(net.servers.get(c.address)!.node.store);
  assert.equal(await readInFlight(cTx, c.username, d), 2, "d holds its own share at c");
  // b, honest, pays e, honest, through c: nothing of this payment touches d.
  const status = await ended(net, b, await pay(net, b, e, 1n));
  assert.deepEqual(
    [status.state, status.reason],
    [COMPLETED, 0],
    "d's stalled payments must not close the edge b → c to everyone else",
  );
});

Deno.test("a neighbour that leaves a commit unanswered gets no more payments passing through towards it, until it answers; the honest account waiting on it is not blamed", async (t) => {
  await using net = new LocalNetwork({ ...FAST_LIMITS, peerHeldUp: 1, heldUpAfterMs: 300 });
  // a → b → c → d: d, the seller of the first payment, holds the commit and says nothing.
  const [a, b, c, d] = await chain(net, [100n, 100n, 100n]);
  let silent = true;
  net.drop = (from, _to, bytes) =>
    silent && from === d.address && bytes[0] >= ServerCommand.Committed &&
    bytes[0] !== ServerCommand.SearchEnd;
  const stalled = await pay(net, a, d, 1n);
  const steps = (at: AccountRef) => net.servers.get(at.address)!.node;
  await eventually(async () => (await stateAt(net, c, stalled)) === COMMITTED || undefined);

  await t.step(
    "c counts d as holding the payment up once d left the commit unanswered for held_up_after_ms",
    async () => {
      await eventually(() => Promise.resolve(heldUpAt(steps(c), c, d) === 1 || undefined));
    },
  );
  await t.step("b, whose query c answers with waiting, does not count c", async () => {
    // By now b has resent the commit to c and queried it, each answered waiting.
    await new Promise((resolve) => setTimeout(resolve, 2 * FAST_LIMITS.commitQueryMs!));
    assert.equal(heldUpAt(steps(b), b, c), 0);
    assert.equal(await stateAt(net, b, stalled), COMMITTED);
  });
  await t.step(
    "a payment through c towards d finds no path; one of c's own still goes",
    async () => {
      const status = await ended(net, b, await pay(net, b, d, 1n));
      assert.equal(status.reason, Reason.PeerLimits);
      // c paying d itself is c's own risk, not a payment passing through: it goes as far as d
      // lets it (d, silent, then holds this one up as well).
      const own = await pay(net, c, d, 1n);
      await eventually(async () => (await stateAt(net, c, own)) === COMMITTED || undefined);
    },
  );
  await t.step("once d answers again, payments pass through towards it", async () => {
    silent = false;
    await eventually(() => Promise.resolve(heldUpAt(steps(c), c, d) === 0 || undefined));
    const status = await ended(net, b, await pay(net, b, d, 1n));
    assert.deepEqual([status.state, status.reason], [COMPLETED, 0]);
  });
});

Deno.test("a locked or finalized from a neighbour holding a payment up, which answer no commit, does not reset its clocks", async () => {
  await using net = new LocalNetwork({ ...FAST_LIMITS, heldUpAfterMs: 300, waitingAfterMs: 300 });
  const [a, , c, d] = await chain(net, [100n, 100n, 100n]);
  net.drop = (from, _to, bytes) =>
    from === d.address && bytes[0] >= ServerCommand.Committed &&
    bytes[0] !== ServerCommand.SearchEnd;
  const stalled = await pay(net, a, d, 1n);
  const node = net.servers.get(c.address)!.node;
  const counts = () => node.search.heldUp(c.username, d, Date.now());
  await eventually(() => Promise.resolve(counts().silent === 1 || undefined));
  // Forged datagrams take counters the real d will not reach again: nothing real follows.
  for (const command of [ServerCommand.Locked, ServerCommand.Finalized]) {
    const args = paymentArgs.encode({ id: stalled, amount: 1n });
    await node.receive(await net.forge(d, c, command, args));
  }
  assert.deepEqual(counts(), { silent: 1, waiting: 1, slow: 0 });
});

Deno.test("a neighbour that only ever answers waiting gets no more payments passing through towards it once it has kept peer_waiting of them past waiting_after_ms", async (t) => {
  // The silent rule is off: c, waiting on a silent d, answers b with waiting, as a staller
  // that says it waits on its own downstream would.
  await using net = new LocalNetwork({
    ...FAST_LIMITS,
    peerHeldUp: 0,
    peerWaiting: 1,
    waitingAfterMs: 1_000,
  });
  const [a, b, c, d] = await chain(net, [100n, 100n, 100n]);
  let silent = true;
  net.drop = (from, _to, bytes) =>
    silent && from === d.address && bytes[0] >= ServerCommand.Committed &&
    bytes[0] !== ServerCommand.SearchEnd;
  const stalled = await pay(net, a, d, 1n);
  const node = (at: AccountRef) => net.servers.get(at.address)!.node;
  await eventually(async () => (await stateAt(net, b, stalled)) === COMMITTED || undefined);

  await t.step("b counts c once c has said nothing but waiting for waiting_after_ms", async () => {
    await eventually(() => Promise.resolve(waitingAt(node(b), b, c) === 1 || undefined));
    assert.equal(heldUpAt(node(b), b, c), 0, "c answered every query: it is not silent");
  });
  await t.step(
    "a payment through b towards c finds no path, with the reason in words",
    async () => {
      const status = await ended(net, a, await pay(net, a, d, 1n));
      assert.deepEqual([status.state, status.reason], [FAILED, Reason.PeerLimits]);
    },
  );
  await t.step("once the payment is settled, payments pass through towards c again", async () => {
    silent = false;
    await eventually(() => Promise.resolve(waitingAt(node(b), b, c) === 0 || undefined));
    const status = await ended(net, a, await pay(net, a, d, 1n));
    assert.deepEqual([status.state, status.reason], [COMPLETED, 0]);
  });
});

Deno.test("a neighbour that leaves peer_slow_locks locks unanswered past slow_lock_after_ms gets no more payments passing through towards it, until it answers", async (t) => {
  await using net = new LocalNetwork({
    ...FAST_LIMITS,
    lockTimeoutMs: 20_000,
    peerSlowLocks: 2,
    slowLockAfterMs: 300,
  });
  // a → b → c → d: d, the seller, takes the locks and says nothing of them.
  const [a, b, c, d] = await chain(net, [100n, 100n, 100n]);
  let silent = true;
  net.drop = (from, _to, bytes) =>
    silent && from === d.address && bytes[0] >= ServerCommand.Lock &&
    bytes[0] !== ServerCommand.SearchEnd;
  const node = (at: AccountRef) => net.servers.get(at.address)!.node;
  const slowAt = (at: AccountRef, peer: AccountRef) =>
    node(at).search.heldUp(at.username, peer, Date.now()).slow;
  const stalled = [await pay(net, a, d, 1n), await pay(net, a, d, 1n)];

  await t.step("c counts d's two locks once slow_lock_after_ms has passed", async () => {
    await eventually(() => Promise.resolve(slowAt(c, d) === 2 || undefined));
    for (const id of stalled) assert.equal(await stateAt(net, c, id), LOCKING);
  });
  await t.step(
    "a payment through c towards d finds no path, with the reason in words",
    async () => {
      const status = await ended(net, a, await pay(net, a, d, 1n));
      assert.deepEqual([status.state, status.reason], [FAILED, Reason.PeerLimits]);
    },
  );
  await t.step("c's own payment to d still goes: that risk is c's", async () => {
    const own = await pay(net, c, d, 1n);
    await eventually(async () => (await stateAt(net, c, own)) === LOCKING || undefined);
  });
  await t.step("after c restarts, its resent locks start the clocks again", async () => {
    net.crash(c.address);
    await net.start(c.address);
    assert.equal(slowAt(c, d), 0, "the clocks lived in memory");
    // The two stalled payments and c's own: each resend after the restart starts a clock.
    await eventually(() => Promise.resolve(slowAt(c, d) === 3 || undefined));
  });
  await t.step("once d answers the locks, payments pass through towards it again", async () => {
    silent = false;
    await eventually(() => Promise.resolve(slowAt(c, d) === 0 || undefined));
    await eventually(() => Promise.resolve(slowAt(b, c) === 0 || undefined));
    const status = await ended(net, a, await pay(net, a, d, 1n));
    assert.deepEqual([status.state, status.reason], [COMPLETED, 0]);
  });
});

/** How many payments `peer` holds up at `at` without a word, by the count the limit uses. */
function heldUpAt(node: Node, at: AccountRef, peer: AccountRef): number {
  return node.search.heldUp(at.username, peer, Date.now()).silent;
}

/** How many payments `peer` keeps unsettled at `at` past waiting_after_ms. */
function waitingAt(node: Node, at: AccountRef, peer: AccountRef): number {
  return node.search.heldUp(at.username, peer, Date.now()).waiting;
}
