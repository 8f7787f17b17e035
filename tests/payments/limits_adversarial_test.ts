/** Adversarial cases of the per-neighbour limits (docs/protocol.md §8). */

import assert from "node:assert/strict";
import * as api from "../../src/client/commands.ts";
import { readInFlight } from "../../src/store/books.ts";
import { Tx } from "../../src/store/tx.ts";
import { ServerCommand } from "../../src/wire/commands.ts";
import type { AccountRef } from "../../src/wire/names.ts";
import { chain, eventually, FAST_LIMITS, LocalNetwork } from "../support/local_network.ts";

const COMPLETED = 6;
const FAILED = 7;
const COMMITTED = 4;

async function pay(net: LocalNetwork, buyer: AccountRef, seller: AccountRef, amount: bigint) {
  const id = crypto.getRandomValues(new Uint8Array(32));
  await api.newPaymentIn(net.client(seller), buyer, id, amount);
  await api.newPaymentOut(net.client(buyer), seller, id, amount);
  return id;
}

async function ended(net: LocalNetwork, buyer: AccountRef, id: Uint8Array) {
  return await eventually(async () => {
    const status = await api.getPayment(net.client(buyer), id);
    return status.state === COMPLETED || status.state === FAILED ? status : undefined;
  });
}

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
    await eventually(async () =>
      (await api.getPayment(net.client(c), id)).state === COMMITTED || undefined
    );
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
