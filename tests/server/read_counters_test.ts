/** A read's counter is acknowledged before it is durable; a write's never is, so no write can be replayed after a crash. */

import assert from "node:assert/strict";
import { generateKey } from "../../src/auth/keys.ts";
import { Client } from "../../src/client/client.ts";
import * as api from "../../src/client/commands.ts";
import { MemoryCounterStore } from "../../src/client/counter_store.ts";
import { Node } from "../../src/server/node.ts";
import { addPeer, createAccount } from "../../src/store/accounts.ts";
import { MemoryFileSystem } from "../../src/store/memory_fs.ts";
import { accountPath } from "../../src/store/paths.ts";
import type { AccountRef } from "../../src/wire/names.ts";
import { Status } from "../../src/wire/response.ts";

const bob: AccountRef = { username: "bob", address: "b.test" };
/** Deferred counters wait this long, so a test crash always comes before they are written. */
const store = { deferMs: 600_000 };

async function open(disk: MemoryFileSystem): Promise<Node> {
  return await Node.open({
    fs: disk.view(),
    datadir: "/data",
    address: "a.test",
    // Nothing reaches bob's server; set trustline keeps its resend for later.
    transport: { send: () => Promise.reject(new Error("unreachable")) },
    store,
  });
}

Deno.test("after a crash a replayed read may be answered again, a replayed write never", async (t) => {
  const disk = new MemoryFileSystem();
  const key = generateKey();
  await createAccount(disk.view(), "/data/ripple", "alice", key);
  await addPeer(disk.view(), "/data/ripple", "alice", bob, generateKey());
  let node = await open(disk);
  const crashed: Node[] = [];
  const crash = async () => {
    disk.crash();
    crashed.push(node);
    node = await open(disk);
  };
  const sent: Uint8Array[] = [];
  const client = new Client({
    server: "a.test",
    account: "alice",
    key,
    counters: new MemoryCounterStore(),
    exchange: async (_address, request) => {
      sent.push(request.slice());
      return (await node.receive(request))!;
    },
  });
  const replay = async (request: Uint8Array) => (await node.receive(request.slice()))![0];
  /** Right after a restart, what the store reads is what was durable. */
  const storedCounter = async () => await node.store.read(accountPath("alice", "counter.txt"));

  await t.step("a write, then a read answered before its counter is durable", async () => {
    await api.setTrustline(client, bob, 5n);
    await api.getTrustlineOut(client, bob);
    assert.equal(sent.length, 2);
    assert.equal(await replay(sent[1]), Status.Replay, "in memory the read's counter is used");
  });
  await t.step("a crash loses the read's counter but not the write's", async () => {
    await crash();
    assert.equal(await storedCounter(), "1\n");
    assert.equal(await replay(sent[0]), Status.Replay, "the write cannot be replayed");
    assert.equal(await replay(sent[1]), Status.Ok, "the read is answered again");
    assert.equal(await replay(sent[1]), Status.Replay, "but only once: its counter is in memory");
    assert.equal((await api.getTrustlineOut(client, bob)).amount, 5n, "nothing changed");
  });
  await t.step("a write after a read makes a counter above the read's durable", async () => {
    await api.getTrustlineOut(client, bob);
    const read = sent.at(-1)!;
    await api.setTrustline(client, bob, 6n);
    await crash();
    assert.equal(await replay(read), Status.Replay);
    assert.equal((await api.getTrustlineOut(client, bob)).amount, 6n);
  });
  await t.step("a write its handler refused is never replayed either", async () => {
    const id = new Uint8Array(32).fill(7);
    await api.newPaymentIn(client, bob, id, 10n);
    const again = await api.newPaymentIn(client, bob, id, 10n).catch((e) => e);
    assert.ok(again instanceof Error, "the same id twice is refused");
    const refused = sent.at(-1)!;
    await crash();
    assert.equal(await replay(refused), Status.Replay, "its counter was durable before its answer");
  });
  await node.close();
  // A crashed node's timers still have to stop for the leak check.
  for (const old of crashed) await old.close().catch(() => {});
});
