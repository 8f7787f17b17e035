import assert from "node:assert/strict";
import * as api from "../../src/client/commands.ts";
import { startServers } from "./harness.ts";
import { assertBooks, chain, outcome, pay } from "./_payments.ts";

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
