import { toHex } from "../../src/auth/keys.ts";
import assert from "node:assert/strict";
import * as api from "../../src/client/commands.ts";
import { readPayment } from "../../src/payments/record.ts";
import { Tx } from "../../src/store/tx.ts";
import { Random } from "../../src/sim/random.ts";
import { generateTopology, writeSyncedTrustline } from "../../src/sim/topology.ts";
import { NO_FAULTS, SimWorld } from "../../src/sim/world.ts";

Deno.test("once a payment has its path, the accounts off the path drop the search at once", async () => {
  const random = new Random(5);
  const world = new SimWorld({ random: random.fork(), faults: NO_FAULTS });
  const topology = await generateTopology(world, random.fork(), {
    servers: 6,
    accounts: 30,
    degree: 4,
  });
  for (const [a, b] of topology.pairs) {
    await writeSyncedTrustline(world, topology.accounts[a], topology.accounts[b], 100n);
    await writeSyncedTrustline(world, topology.accounts[b], topology.accounts[a], 100n);
  }
  for (const address of topology.addresses) await world.start(address);
  const [buyer, seller] = [topology.accounts[0], topology.accounts[15]];
  const id = random.bytes(32);
  const idHex = toHex(id);
  await world.runUntil(
    (async () => {
      await api.newPaymentIn(world.client(seller.ref, seller.key), buyer.ref, id, 10n);
      await api.newPaymentOut(world.client(buyer.ref, buyer.key), seller.ref, id, 10n);
    })(),
    10_000,
  );
  const started = world.clock.now();
  const searches = () =>
    [...world.servers.values()].flatMap((server) => [...server.node!.search.table.all()]);
  let visited = 0;
  for (let waited = 0; waited < 10_000; waited += 10) {
    visited = Math.max(visited, searches().length);
    const record = await readPayment(
      new Tx(world.servers.get(buyer.ref.address)!.node!.store),
      buyer.ref.username,
      idHex,
    );
    if (record?.state === "completed") break;
    await world.runFor(10);
  }
  assert.ok(visited > 3, `the search reached ${visited} accounts, more than the path`);
  await world.runFor(1_000);
  assert.deepEqual(searches().map(([username]) => username), []);
  // The search time limit (30 s) is far off: the states went because they were told to.
  assert.ok(world.clock.now() - started < 15_000);
  await world.close();
});
