/** A search datagram's counter is committed deferred: what it sends leaves before an fsync, and a replay after a crash changes no books. */

import assert from "node:assert/strict";
import { WebCryptoMac } from "../../src/auth/hmac.ts";
import { generateKey } from "../../src/auth/keys.ts";
import { Node } from "../../src/server/node.ts";
import { addPeer, createAccount } from "../../src/store/accounts.ts";
import { writeDurable } from "../../src/store/durable.ts";
import { MemoryFileSystem } from "../../src/store/memory_fs.ts";
import { peerPath } from "../../src/store/paths.ts";
import { searchArgs, setTrustlineArgs } from "../../src/wire/arguments.ts";
import { ServerCommand } from "../../src/wire/commands.ts";
import { encodeDatagram, signedBytes } from "../../src/wire/datagram.ts";
import type { AccountRef } from "../../src/wire/names.ts";
import { WatchedFileSystem } from "../store/_watched_fs.ts";

const alice: AccountRef = { username: "alice", address: "a.test" };
const carol: AccountRef = { username: "carol", address: "c.test" };
const ROOT = "/data/ripple";
const mac = new WebCryptoMac();

/** Bob's server, between alice (who trusts nobody) and carol; bob trusts alice for 100 and carol trusts bob. */
async function bobsDisk(alicesKey: Uint8Array): Promise<MemoryFileSystem> {
  const disk = new MemoryFileSystem();
  await createAccount(disk.view(), ROOT, "bob", generateKey());
  await addPeer(disk.view(), ROOT, "bob", alice, alicesKey);
  await addPeer(disk.view(), ROOT, "bob", carol, generateKey());
  await writeDurable(
    disk.view(),
    `${ROOT}/${peerPath("bob", alice, "trustline_out.txt")}`,
    "100\n",
  );
  await writeDurable(disk.view(), `${ROOT}/${peerPath("bob", carol, "trustline_in.txt")}`, "100\n");
  return disk;
}

/** Datagrams from alice to bob, counted up as alice's server would. */
class Alice {
  #key: Uint8Array;
  #counter = 0;
  constructor(key: Uint8Array) {
    this.#key = key;
  }
  async datagram(command: number, args: Uint8Array): Promise<Uint8Array> {
    const fields = {
      command,
      username: "bob",
      peerUsername: alice.username,
      peerAddress: alice.address,
      arguments: args,
      counter: ++this.#counter,
    };
    const unsigned = encodeDatagram(fields, new Uint8Array(32));
    return encodeDatagram(fields, await mac.sign(this.#key, signedBytes(unsigned)));
  }
  probe(id: number, round = 1): Promise<Uint8Array> {
    const args = searchArgs.encode({
      id: new Uint8Array(32).fill(id),
      amount: 5n,
      front: 0,
      round,
    });
    return this.datagram(ServerCommand.Search, args);
  }
  trustline(amount: bigint, counter: number): Promise<Uint8Array> {
    return this.datagram(ServerCommand.SetTrustline, setTrustlineArgs.encode({ amount, counter }));
  }
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Opens bob's server; `sent` gets the command of every datagram it sends. */
function open(fs: WatchedFileSystem | MemoryFileSystem, sent: number[], deferMs?: number) {
  return Node.open({
    fs: fs instanceof MemoryFileSystem ? fs.view() : fs,
    datadir: "/data",
    address: "b.test",
    transport: { send: (_to, bytes) => (sent.push(bytes[0]), Promise.resolve()) },
    store: deferMs === undefined ? {} : { deferMs },
    limits: { labelTrees: 0 },
  });
}

Deno.test("a search datagram's report leaves while fsyncs are held; a trustline's answer waits for its fsync", async (t) => {
  const alicesKey = generateKey();
  const from = new Alice(alicesKey);
  const watched = new WatchedFileSystem((await bobsDisk(alicesKey)).view());
  const sent: number[] = [];
  const node = await open(watched, sent);
  try {
    await t.step("with fsyncs free, a first probe reserves the lane's counters", async () => {
      await node.receive(await from.probe(1));
      await until(() => sent.includes(ServerCommand.SearchReport), "the first report");
    });
    watched.holdSyncs();
    const syncsBefore = watched.syncs;
    await t.step("with fsyncs held, a probe is answered with its report", async () => {
      sent.length = 0;
      const handled = node.receive(await from.probe(2));
      await until(() => sent.includes(ServerCommand.SearchReport), "the report of probe 2");
      await handled;
      assert.equal(node.search.table.get("bob", "02".repeat(32))?.amount, 5n, "the search is kept");
    });
    await t.step(
      "a set trustline is stored, but its confirmation waits for the fsync",
      async () => {
        sent.length = 0;
        const amountPath = peerPath("bob", alice, "trustline_in.txt");
        // Handling ends once the change set is durable, so it is not awaited yet.
        const handled = node.receive(await from.trustline(7n, 1));
        await until(async () => (await node.store.read(amountPath)) === "7\n", "the amount stored");
        await new Promise((resolve) => setTimeout(resolve, 30));
        assert.equal(sent.length, 0, "nothing announces the amount before it is durable");
        watched.openSyncs();
        await handled;
        await until(() => sent.includes(ServerCommand.SetSyncOut), "the confirmation");
        assert.ok(watched.syncs > syncsBefore, "the confirmation came after an fsync");
      },
    );
  } finally {
    watched.openSyncs();
    await node.close();
  }
});

Deno.test("a search datagram replayed after a crash is taken once and changes no books; a write is never replayed", async (t) => {
  const alicesKey = generateKey();
  const from = new Alice(alicesKey);
  const disk = await bobsDisk(alicesKey);
  const sent: number[] = [];
  // Deferred change sets wait this long, so a crash always comes before they are written.
  let node = await open(disk, sent, 600_000);
  const crashed: Node[] = [];
  const crash = async () => {
    disk.crash();
    crashed.push(node);
    node = await open(disk, sent, 600_000);
  };
  /** Every file of bob but the counters and the pending marker, as bob's store reads them. */
  const books = async () => {
    const files = new Map<string, string | undefined>();
    for (const peer of [alice, carol]) {
      for (const file of ["trustline_in.txt", "trustline_out.txt", "sync_in.txt"] as const) {
        files.set(`${peer.username}/${file}`, await node.store.read(peerPath("bob", peer, file)));
      }
      for (const file of ["balance.txt", "locked_in.txt", "locked_out.txt"] as const) {
        files.set(`${peer.username}/${file}`, await node.store.read(peerPath("bob", peer, file)));
      }
    }
    files.set("payments", (await node.store.list("accounts/bob/payments")).join(","));
    return files;
  };
  const replay = async (bytes: Uint8Array) => {
    sent.length = 0;
    await node.receive(bytes.slice());
    await node.store.barrier();
    // The sender's lanes run on their own: give them the turns a send takes.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return [...sent];
  };
  try {
    const write = await from.trustline(9n, 1);
    const probe = await from.probe(3);
    await t.step("a trustline, then a probe whose counter is only in memory", async () => {
      assert.deepEqual(await replay(write), [ServerCommand.SetSyncOut]);
      assert.deepEqual(await replay(probe), [ServerCommand.SearchReport]);
      assert.deepEqual(await replay(probe), [], "in memory the probe's counter is used");
    });
    await t.step(
      "after a crash the write is refused and the probe is taken once more",
      async () => {
        await crash();
        const before = await books();
        assert.equal(before.get("alice/trustline_in.txt"), "9\n", "the write was durable");
        assert.deepEqual(await replay(write), [], "the write cannot be replayed");
        assert.deepEqual(await replay(probe), [ServerCommand.SearchReport], "answered as a resend");
        assert.deepEqual(await replay(probe), [], "but only once: its counter is in memory");
        assert.deepEqual(await books(), before, "the replayed probe changed no books");
        assert.equal(node.search.table.get("bob", "03".repeat(32))?.amount, 5n);
      },
    );
    await t.step("a write after a probe makes a counter above the probe's durable", async () => {
      const later = await from.probe(4);
      const write2 = await from.trustline(11n, 2);
      assert.deepEqual(await replay(later), [ServerCommand.SearchReport]);
      assert.deepEqual(await replay(write2), [ServerCommand.SetSyncOut]);
      await crash();
      assert.deepEqual(await replay(later), [], "the journal kept the probe's counter first");
      assert.equal((await books()).get("alice/trustline_in.txt"), "11\n");
    });
  } finally {
    await node.close();
    for (const old of crashed) await old.close().catch(() => {});
  }
});
