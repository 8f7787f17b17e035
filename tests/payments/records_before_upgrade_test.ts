/**
 * Payments in flight on a datadir written before the per-neighbour limits (no `in_flight.txt`)
 * or before the deadlines after the commit (records without their fields), as a server
 * upgraded with payments in flight finds them.
 */

import assert from "node:assert/strict";
import { toHex } from "../../src/auth/keys.ts";
import * as api from "../../src/client/commands.ts";
import { readPayment } from "../../src/payments/record.ts";
import { paymentPath, peerPath } from "../../src/store/paths.ts";
import { Tx } from "../../src/store/tx.ts";
import { ServerCommand } from "../../src/wire/commands.ts";
import type { AccountRef } from "../../src/wire/names.ts";
import { chain, eventually, FAST_LIMITS, LocalNetwork } from "../support/local_network.ts";

async function pay(net: LocalNetwork, buyer: AccountRef, seller: AccountRef): Promise<Uint8Array> {
  const id = crypto.getRandomValues(new Uint8Array(32));
  await api.newPaymentIn(net.client(seller), buyer, id, 10n);
  await api.newPaymentOut(net.client(buyer), seller, id, 10n);
  return id;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("a payment in flight from before the counts of payments in flight still ends when its lock expires", async () => {
  await using net = new LocalNetwork();
  const [a, b, c] = await chain(net, [100n, 100n]);
  const store = net.servers.get(b.address)!.node.store;
  // b's lock never reaches c: the payment stays locking at b until its lock expires.
  net.drop = (from, to, bytes) =>
    from === b.address && to === c.address && bytes[0] === ServerCommand.Lock;
  const id = await pay(net, a, c);
  const record = () => readPayment(new Tx(store), b.username, toHex(id));
  await eventually(async () => (await record())?.state === "locking" || undefined);
  // As the previous version left it: no count of payments in flight with either neighbour.
  await store.commit(
    new Map([
      [peerPath(b.username, a, "in_flight.txt" as never), null],
      [peerPath(b.username, c, "in_flight.txt" as never), null],
    ]),
  );
  await eventually(async () => (await record())?.state === "failed" || undefined, 4_000)
    .catch(() => {});
  const error = net.servers.get(b.address)!.logs.find((line) =>
    line.includes("wake-failed") || line.includes("datagram-failed")
  );
  assert.equal((await record())?.state, "failed", `the record is stuck: ${error}`);
});

Deno.test("a committed payment from before the deadlines is not released in full at its next timer", async () => {
  await using net = new LocalNetwork({ ...FAST_LIMITS, releaseGraceMs: 0, queryRetryMaxMs: 100 });
  const [a, b, c] = await chain(net, [100n, 100n]);
  const store = net.servers.get(b.address)!.node.store;
  // The seller holds the commit and says nothing: b stays committed, asking c.
  net.drop = (from, _to, bytes) =>
    from === c.address && bytes[0] >= ServerCommand.Committed &&
    bytes[0] !== ServerCommand.SearchEnd;
  const id = await pay(net, a, c);
  const path = paymentPath(b.username, toHex(id));
  await eventually(async () =>
    (await readPayment(new Tx(store), b.username, toHex(id)))?.state === "committed" || undefined
  );
  // The record as the previous version wrote it: none of the fields of the deadlines.
  const later =
    /^(deadline|claim_at|release_ms|pass_wait|pass_claim|released_out|released_in|claimed)=/;
  const text = (await store.read(path))!;
  await store.commit(
    new Map([[path, text.split("\n").filter((line) => !later.test(line)).join("\n")]]),
  );
  await sleep(1_000);
  const record = (await readPayment(new Tx(store), b.username, toHex(id)))!;
  assert.deepEqual(
    [record.state, record.releasedOut],
    ["committed", 0n],
    "a deadline of 6 h from the commit has not passed: nothing is released yet",
  );
});
