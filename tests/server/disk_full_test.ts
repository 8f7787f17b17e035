/** A server whose disk fills: changes refused with a clear answer, reads answered, peers' datagrams kept for their resends, and everything resumes by itself. */

import assert from "node:assert/strict";
import { ClientError } from "../../src/client/client.ts";
import * as api from "../../src/client/commands.ts";
import { peerPath } from "../../src/store/paths.ts";
import { Tx } from "../../src/store/tx.ts";
import type { AccountRef } from "../../src/wire/names.ts";
import { Status } from "../../src/wire/response.ts";
import { eventually, LocalNetwork } from "../support/local_network.ts";

const alice: AccountRef = { username: "alice", address: "a.test" };
const bob: AccountRef = { username: "bob", address: "b.test" };

async function pair(net: LocalNetwork): Promise<void> {
  for (const account of [alice, bob]) {
    await net.start(account.address);
    await net.account(account);
  }
  await net.peers(alice, bob);
  await api.setTrustline(net.client(bob), alice, 100n);
  await eventually(async () =>
    (await api.getTrustlineIn(net.client(alice), bob)).amount === 100n || undefined
  );
}

function counterIn(net: LocalNetwork): Promise<number> {
  const store = net.servers.get(alice.address)!.node.store;
  return new Tx(store).getNumber(peerPath(alice.username, bob, "counter_in.txt"));
}

Deno.test("a full disk refuses changes clearly, answers reads, and resumes by itself", async (t) => {
  await using net = new LocalNetwork();
  await pair(net);
  const a = net.servers.get(alice.address)!;
  a.disk.budget = a.disk.used;

  await t.step("a change is refused: busy, the server's disk is full", async () => {
    const error = await api.setTrustline(net.client(alice), bob, 50n).catch((e) => e);
    assert.ok(error instanceof ClientError, String(error));
    assert.equal(error.status, Status.Busy);
    assert.match(error.message, /the server's disk is full/);
    assert.equal((await api.getTrustlineOut(net.client(alice), bob)).amount, 0n);
  });
  await t.step("reads are still answered", async () => {
    assert.equal((await api.getTrustlineIn(net.client(alice), bob)).amount, 100n);
    assert.equal((await api.getBalance(net.client(alice), bob)).balance, 0n);
  });
  await t.step("a peer's change is not applied, and its counter is not used", async () => {
    const before = await counterIn(net);
    await api.setTrustline(net.client(bob), alice, 200n);
    await eventually(() =>
      Promise.resolve(a.logs.some((line) => line.includes("server-datagram-refused")) || undefined)
    );
    assert.equal(await counterIn(net), before);
    assert.equal((await api.getTrustlineIn(net.client(alice), bob)).amount, 100n);
  });
  await t.step(
    "space returns: the peer's resend lands, and changes are accepted again",
    async () => {
      a.disk.budget = null;
      await eventually(async () =>
        (await api.getTrustlineIn(net.client(alice), bob)).amount === 200n || undefined
      );
      await api.setTrustline(net.client(alice), bob, 50n);
      await eventually(async () =>
        (await api.getTrustlineIn(net.client(bob), alice)).amount === 50n || undefined
      );
      assert.ok(a.logs.some((line) => line.includes("disk-full")));
      assert.ok(a.logs.some((line) => line.includes("disk-space-returned")));
      assert.ok(!a.logs.some((line) => line.includes("storage-failed")));
    },
  );
  await t.step("both sides agree, and nothing was lost on a crash", async () => {
    net.crash(alice.address);
    await net.start(alice.address);
    assert.equal((await api.getTrustlineIn(net.client(alice), bob)).amount, 200n);
    assert.equal((await api.getTrustlineOut(net.client(alice), bob)).amount, 50n);
    assert.equal((await api.getTrustlineOut(net.client(bob), alice)).amount, 200n);
  });
});

Deno.test("an I/O error stops the node once, and a restart from its disk loses nothing", async () => {
  await using net = new LocalNetwork();
  await pair(net);
  const a = net.servers.get(alice.address)!;
  a.disk.eio.sync = 1;
  const error = await api.setTrustline(net.client(alice), bob, 30n).catch((e) => e);
  assert.ok(error instanceof ClientError);
  assert.equal(error.status, Status.InternalError);
  const failed = await api.getTrustlineIn(net.client(alice), bob).catch((e) => e);
  assert.equal((failed as ClientError).status, Status.InternalError, "nothing more is answered");
  assert.equal(a.logs.filter((line) => line.includes("storage-failed")).length, 1);
  a.disk.eio.sync = 0;
  net.crash(alice.address);
  await net.start(alice.address);
  assert.equal((await api.getTrustlineIn(net.client(alice), bob)).amount, 100n);
});
