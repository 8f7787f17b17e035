/** A server out of file descriptors: a request that cannot open its files is refused as busy, and nothing is lost. */

import assert from "node:assert/strict";
import { ClientError } from "../../src/client/client.ts";
import * as api from "../../src/client/commands.ts";
import type { AccountRef } from "../../src/wire/names.ts";
import { Status } from "../../src/wire/response.ts";
import { eventually, LocalNetwork } from "../support/local_network.ts";

const alice: AccountRef = { username: "alice", address: "a.test" };
const bob: AccountRef = { username: "bob", address: "b.test" };
const carol: AccountRef = { username: "carol", address: "a.test" };

Deno.test("a request that finds no file descriptor is answered busy, and works once one is free", async () => {
  await using net = new LocalNetwork();
  for (const account of [alice, bob]) {
    await net.start(account.address);
    await net.account(account);
  }
  await net.peers(alice, bob);
  await api.setTrustline(net.client(alice), bob, 70n);
  const a = net.servers.get(alice.address)!;

  // An account added beside the running server, as `ripple account add` does: its key is
  // on disk only, so its first request must open a file (what other requests read may
  // already be in the store's memory, and be answered from there).
  await net.account(carol);

  a.disk.outOfFiles = true;
  const error = await api.getLabel(net.client(carol)).catch((e) => e);
  assert.ok(error instanceof ClientError, String(error));
  assert.equal(error.status, Status.Busy);
  assert.match(error.message, /out of file descriptors/);
  assert.ok(a.logs.some((line) => line.includes("out-of-files")), a.logs.join("\n"));
  const answer = await api.getTrustlineOut(net.client(alice), bob).catch((e) => e);
  if (answer instanceof ClientError) assert.equal(answer.status, Status.Busy);
  else assert.equal(answer.amount, 70n, String(answer));
  assert.ok(!a.logs.some((line) => line.includes("storage-failed")));

  a.disk.outOfFiles = false;
  assert.equal((await api.getLabel(net.client(carol))).length, 207);
  assert.equal((await api.getTrustlineOut(net.client(alice), bob)).amount, 70n);
  await eventually(async () =>
    (await api.getTrustlineIn(net.client(bob), alice)).amount === 70n || undefined
  );
});
