/** The pending marker: written with the change that needs a resend, removed without an fsync of its own, safe across a crash either way. */

import assert from "node:assert/strict";
import { generateKey } from "../../src/auth/keys.ts";
import { Client } from "../../src/client/client.ts";
import * as api from "../../src/client/commands.ts";
import { MemoryCounterStore } from "../../src/client/counter_store.ts";
import { Node } from "../../src/server/node.ts";
import { addPeer, createAccount } from "../../src/store/accounts.ts";
import { MemoryFileSystem } from "../../src/store/memory_fs.ts";
import { ServerCommand } from "../../src/wire/commands.ts";
import type { AccountRef } from "../../src/wire/names.ts";

const alice: AccountRef = { username: "alice", address: "a.test" };
const bob: AccountRef = { username: "bob", address: "b.test" };

Deno.test("a marker's removal waits for the next change set; a crash before it costs one idle wake", async (t) => {
  const disks = { "a.test": new MemoryFileSystem(), "b.test": new MemoryFileSystem() };
  const key = generateKey();
  const peerKey = generateKey();
  await createAccount(disks["a.test"].view(), "/data/ripple", "alice", key);
  await createAccount(disks["b.test"].view(), "/data/ripple", "bob", generateKey());
  await addPeer(disks["a.test"].view(), "/data/ripple", "alice", bob, peerKey);
  await addPeer(disks["b.test"].view(), "/data/ripple", "bob", alice, peerKey);
  const nodes = new Map<string, Node>();
  const crashed: Node[] = [];
  /** Trustline datagrams alice's server sent. */
  const sentByA: number[] = [];
  const open = async (address: "a.test" | "b.test") => {
    const node = await Node.open({
      fs: disks[address].view(),
      datadir: "/data",
      address,
      transport: {
        send: (to, bytes) => {
          if (address === "a.test") sentByA.push(bytes[0]);
          nodes.get(to)!.receive(bytes.slice()).catch(() => {});
          return Promise.resolve();
        },
      },
      // Deferred change sets reach the journal only with an ordinary one or at a close.
      store: { deferMs: 600_000 },
      limits: { retryBaseMs: 10, labelTrees: 0 },
    });
    nodes.set(address, node);
    return node;
  };
  const crashA = async () => {
    disks["a.test"].crash();
    crashed.push(nodes.get("a.test")!);
    return await open("a.test");
  };
  await open("b.test");
  let a = await open("a.test");
  const client = new Client({
    server: "a.test",
    account: "alice",
    key,
    counters: new MemoryCounterStore(),
    exchange: async (_address, request) => (await nodes.get("a.test")!.receive(request))!,
  });
  const until = async (check: () => Promise<boolean> | boolean, what: string) => {
    const end = Date.now() + 5_000;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const synced = async () => {
    const line = await api.getTrustlineOut(client, bob);
    return line.counter === line.syncOut;
  };

  try {
    await t.step(
      "a set trustline writes the marker; the synced wake removes it in memory",
      async () => {
        await api.setTrustline(client, bob, 5n);
        assert.equal(a.pendingAccounts, 1);
        await until(synced, "bob's confirmation");
        await until(() => a.pendingAccounts === 0, "the wake that finds the trustline synced");
      },
    );
    await t.step(
      "a crash before the removal is written leaves the marker: one wake, nothing sent",
      async () => {
        a = await crashA();
        assert.equal(a.pendingAccounts, 1, "the removal was not durable");
        assert.ok(await synced(), "the confirmation was durable before the removal");
        sentByA.length = 0;
        await until(() => a.pendingAccounts === 0, "the start's wake");
        assert.deepEqual(sentByA, [], "the wake found nothing to resend");
      },
    );
    await t.step("the next ordinary change set carries the removal to the disk", async () => {
      // Client 1 (sync trustline in) is a write with no resend: an ordinary change set.
      await api.syncTrustlineIn(client, bob);
      a = await crashA();
      assert.equal(a.pendingAccounts, 0);
    });
    await t.step(
      "a crash between the set and the confirmation keeps the marker and the resend",
      async () => {
        await nodes.get("b.test")!.close();
        nodes.delete("b.test");
        await api.setTrustline(client, bob, 6n).catch(() => {});
        a = await crashA();
        assert.equal(a.pendingAccounts, 1);
        await open("b.test");
        await until(synced, "the resend after the restart");
        assert.ok(sentByA.includes(ServerCommand.SetTrustline));
        assert.equal((await api.getTrustlineOut(client, bob)).amount, 6n);
      },
    );
  } finally {
    for (const node of nodes.values()) await node.close();
    for (const node of crashed) await node.close().catch(() => {});
  }
});
