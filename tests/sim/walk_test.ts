import assert from "node:assert/strict";
import { toHex } from "../../src/auth/keys.ts";
import * as api from "../../src/client/commands.ts";
import { encodeLabel } from "../../src/paths/labels.ts";
import { readPayment } from "../../src/payments/record.ts";
import { runPathStudy } from "../../src/sim/paths.ts";
import { Random } from "../../src/sim/random.ts";
import { generateTopology, type Topology, writeSyncedTrustline } from "../../src/sim/topology.ts";
import { NO_FAULTS, SimWorld } from "../../src/sim/world.ts";
import { Tx } from "../../src/store/tx.ts";

/** A world of 40 accounts trusting each other for 100 both ways, its labels built. */
async function world(seed: number): Promise<{ world: SimWorld; topology: Topology }> {
  const random = new Random(seed);
  const world = new SimWorld({ random: random.fork(), faults: NO_FAULTS });
  const topology = await generateTopology(world, random.fork(), {
    servers: 8,
    accounts: 40,
    degree: 4,
  });
  for (const [a, b] of topology.pairs) {
    await writeSyncedTrustline(world, topology.accounts[a], topology.accounts[b], 100n);
    await writeSyncedTrustline(world, topology.accounts[b], topology.accounts[a], 100n);
  }
  for (const address of topology.addresses) await world.start(address);
  await world.runFor(10_000);
  return { world, topology };
}

/** Pays 10 from account `b` to account `s` with the label given; the buyer's final state. */
async function pay(
  { world, topology }: { world: SimWorld; topology: Topology },
  b: number,
  s: number,
  label: (seller: Uint8Array) => Uint8Array,
): Promise<{ state: string | undefined; flood: number; walk: number }> {
  const [buyer, seller] = [topology.accounts[b], topology.accounts[s]];
  const id = new Random(b * 1000 + s).bytes(32);
  await world.runUntil(
    (async () => {
      const sellerClient = world.client(seller.ref, seller.key);
      await api.newPaymentIn(sellerClient, buyer.ref, id, 10n);
      const target = label(await api.getLabel(sellerClient));
      await api.newPaymentOut(world.client(buyer.ref, buyer.key), seller.ref, id, 10n, target);
    })(),
    10_000,
  );
  await world.runFor(20_000);
  const store = world.servers.get(buyer.ref.address)!.node!.store;
  const record = await readPayment(new Tx(store), buyer.ref.username, toHex(id));
  const traffic = world.traffic.get(toHex(id));
  return {
    state: record?.state,
    flood: traffic?.flood ?? 0,
    walk: (traffic?.search ?? 0) - (traffic?.flood ?? 0),
  };
}

Deno.test("with the seller's label the buyer's walk finds the path, and nobody floods", async () => {
  const w = await world(3);
  for (const [b, s] of [[0, 20], [5, 33], [11, 2]]) {
    const paid = await pay(w, b, s, (label) => label);
    assert.equal(paid.state, "completed", `${b} → ${s}`);
    assert.equal(paid.flood, 0, `${b} → ${s}: no flood probe`);
    assert.ok(paid.walk > 0);
  }
  await w.world.close();
});

Deno.test("a walk towards a label no account is near dead-ends at once, and the flood finds the path", async () => {
  const w = await world(4);
  const nowhere = encodeLabel([{ root: 1, coordinate: [7, 7, 7] }]);
  const paid = await pay(w, 0, 20, () => nowhere);
  assert.equal(paid.state, "completed");
  assert.ok(paid.flood > 0, "the flood ran");
  await w.world.close();
});

Deno.test("pairs without a path end within 2 s of simulated time with a no-path reason", async () => {
  // Trustlines of 0 to 40 for payments of 10: many pairs have no path.
  const study = await runPathStudy({
    seed: 2,
    servers: 10,
    accounts: 150,
    degree: 4,
    credit: 40,
    pairs: 12,
  });
  assert.ok(study.noPath.pairs > 0, "some pair had no path");
  assert.equal(study.noPath.endedPromptly, study.noPath.pairs);
  assert.equal(study.unexpected, 0);
  assert.deepEqual(study.violations, []);
});

Deno.test("a seller holds its flood for the walk only once it has handed out its label", async (t) => {
  const w = await world(5);
  const [buyer, seller] = [w.topology.accounts[0], w.topology.accounts[20]];
  const sellerClient = w.world.client(seller.ref, seller.key);
  /** Search datagrams of a seller's front 100 ms after its client 6. */
  const early = async (id: Uint8Array, before?: () => Promise<unknown>) => {
    await w.world.runUntil(
      (async () => {
        await before?.();
        await api.newPaymentIn(sellerClient, buyer.ref, id, 10n);
      })(),
      10_000,
    );
    await w.world.runFor(100);
    return w.world.traffic.get(toHex(id))?.search ?? 0;
  };
  await t.step(
    "without a label handed out, no buyer can walk to it: it floods at once",
    async () => {
      assert.ok((await early(new Random(1).bytes(32))) > 0);
    },
  );
  await t.step("with its label asked for first, it waits for the walk", async () => {
    assert.equal(await early(new Random(2).bytes(32), () => api.getLabel(sellerClient)), 0);
  });
  await w.world.runFor(40_000);
  await w.world.close();
});
