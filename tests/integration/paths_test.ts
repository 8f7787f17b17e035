import assert from "node:assert/strict";
import * as api from "../../src/client/commands.ts";
import { decodeLabel } from "../../src/paths/labels.ts";
import { startServers } from "./harness.ts";
import { addPeers } from "./_accounts.ts";
import { assertBooks, chain, outcome, pay } from "./_payments.ts";
import { waitFor } from "./_wait.ts";

const HOSTS = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];
// The study is of paths over trustline capacities: locks passing through may use all of them.
const FLAGS = ["--search-timeout-ms", "3000", "--peer-lock-share-percent", "100"];
const NO_PATH = 1;
const TIMED_OUT = 2;

Deno.test("a path is found along a 4-hop chain across 4 servers, and both ends see it", async () => {
  await using group = await startServers(HOSTS, { args: FLAGS });
  const [s1, s2, s3, s4] = group.servers;
  // a@s1 → b@s2 → c@s3 → d@s4 → e@s1: four hops, the last back on the first server.
  const payments = await chain([s1, s2, s3, s4, s1], [100n, 100n, 100n, 100n]);
  const id = await pay(payments, 60n);
  const buyer = await outcome(payments.clients[0], id);
  const seller = await outcome(payments.clients[4], id);
  assert.equal(api.PAYMENT_STATES[buyer.state], "completed");
  assert.equal(api.PAYMENT_STATES[seller.state], "completed");
  await assertBooks(payments, [60n, 60n, 60n, 60n]);
  for (const hop of payments.clients.slice(1, 4)) {
    const { role, state } = await api.getPayment(hop, id);
    assert.deepEqual([role, api.PAYMENT_STATES[state]], [3, "completed"], "every hop took part");
  }
});

Deno.test("with one trustline on the chain too small, there is no path", async () => {
  await using group = await startServers(HOSTS, { args: FLAGS });
  const payments = await chain([...group.servers, group.servers[0]], [100n, 100n, 40n, 100n]);
  const id = await pay(payments, 60n);
  const buyer = await outcome(payments.clients[0], id);
  assert.deepEqual([api.PAYMENT_STATES[buyer.state], buyer.reason], ["failed", NO_PATH]);
  const seller = await outcome(payments.clients[4], id);
  assert.deepEqual([api.PAYMENT_STATES[seller.state], seller.reason], ["failed", TIMED_OUT]);
  await assertBooks(payments, [0n, 0n, 0n, 0n]);
});

Deno.test("a peer added between two running accounts gets their labels at once, and the walk takes the new edge", async () => {
  await using group = await startServers(HOSTS, { args: FLAGS });
  const payments = await chain([...group.servers, group.servers[0]], [100n, 100n, 100n, 100n]);
  const [a, b, , d, e] = payments.clients;
  const roots = async () => {
    const labels = await Promise.all(payments.clients.map((client) => api.getLabel(client)));
    return labels.map((bytes) => decodeLabel(bytes).map((tree) => tree?.root));
  };
  // The chain's accounts have greeted their peers and agree on each tree's root.
  await waitFor(async () => new Set((await roots()).map(String)).size === 1, 10_000, "one root");
  // A shortcut a → d, added while both accounts run: its first datagram (d's trustline to a)
  // makes each greet the other, where before they waited for a restart.
  await addPeers(payments.accounts[0], payments.accounts[3]);
  await api.setTrustline(d, payments.accounts[0].ref, 100n);
  await waitFor(
    async () => (await api.getTrustlineIn(a, payments.accounts[3].ref)).amount === 100n,
    10_000,
  );
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const id = crypto.getRandomValues(new Uint8Array(32));
  const label = await api.getLabel(e);
  await api.newPaymentIn(e, payments.accounts[0].ref, id, 60n);
  await api.newPaymentOut(a, payments.accounts[4].ref, id, 60n, label);
  assert.equal(api.PAYMENT_STATES[(await outcome(a, id)).state], "completed");
  // e's only neighbour is d, so d is one hop from e in every tree and b at least two: a walk
  // that holds d's label goes a → d → e, and b never hears of the payment.
  assert.equal((await api.getPayment(b, id)).state, 0, "b took no part");
  assert.equal(api.PAYMENT_STATES[(await api.getPayment(d, id)).state], "completed");
});
