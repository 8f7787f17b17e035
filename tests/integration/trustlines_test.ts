/** Trustlines between two real servers: set, change, confirm, resync, and delivery across a peer's restart. */

import assert from "node:assert/strict";
import type { Client } from "../../src/client/client.ts";
import * as commands from "../../src/client/commands.ts";
import {
  type Account,
  addAccount,
  addPeers,
  clientFor,
  rippleClient,
  startServers,
  tempDir,
  waitFor,
  waitForLog,
} from "./harness.ts";

/** Waits until alice's server holds bob's confirmation of its latest change, and returns the line. */
async function confirmedOut(client: Client, bob: Account, timeoutMs = 5_000) {
  let line = await commands.getTrustlineOut(client, bob.ref);
  await waitFor(
    async () => {
      line = await commands.getTrustlineOut(client, bob.ref);
      return line.syncOut === line.counter;
    },
    timeoutMs,
    "bob's server confirming alice's trustline",
  );
  return line;
}

/**
 * Runs `command` and checks that it moves bob's `lastSync` (unix seconds), which holds
 * still without it: nothing else is in flight.
 */
async function movesLastSync(bobClient: Client, alice: Account, command: () => Promise<void>) {
  const { lastSync } = await commands.getTrustlineIn(bobClient, alice.ref);
  await waitFor(() => Math.floor(Date.now() / 1000) > lastSync, 2_000, "the next second");
  assert.equal((await commands.getTrustlineIn(bobClient, alice.ref)).lastSync, lastSync);
  await command();
  await waitFor(
    async () => (await commands.getTrustlineIn(bobClient, alice.ref)).lastSync > lastSync,
    5_000,
    "bob's lastSync moving",
  );
}

/** alice on 127.0.0.2 and bob on 127.0.0.3, each on a server of their own, peers. */
async function alicePeersBob() {
  await using cleanup = new AsyncDisposableStack();
  const group = cleanup.use(await startServers(["127.0.0.2", "127.0.0.3"]));
  const [serverA, serverB] = group.servers;
  const [alice, bob] = await Promise.all([
    addAccount(serverA, "alice"),
    addAccount(serverB, "bob"),
  ]);
  await addPeers(alice, bob);
  const owned = cleanup.move();
  return { serverA, serverB, alice, bob, [Symbol.asyncDispose]: () => owned.disposeAsync() };
}

Deno.test("a trustline set on one server reaches its peer's server and is confirmed", async (t) => {
  await using pair = await alicePeersBob();
  const { serverB, alice, bob } = pair;
  const aliceClient = clientFor(alice);
  const bobClient = clientFor(bob);

  await t.step("before anything is set, both sides read zero", async () => {
    assert.deepEqual(await commands.getTrustlineOut(aliceClient, bob.ref), {
      amount: 0n,
      counter: 0,
      syncOut: 0,
    });
    assert.deepEqual(await commands.getTrustlineIn(bobClient, alice.ref), {
      amount: 0n,
      syncIn: 0,
      lastSync: 0,
    });
  });

  await t.step("alice sets 100: her side counts the change, bob's side confirms it", async () => {
    const before = Math.floor(Date.now() / 1000);
    await commands.setTrustline(aliceClient, bob.ref, 100n);
    assert.deepEqual(await confirmedOut(aliceClient, bob), {
      amount: 100n,
      counter: 1,
      syncOut: 1,
    });
    const line = await commands.getTrustlineIn(bobClient, alice.ref);
    assert.equal(line.amount, 100n);
    assert.equal(line.syncIn, 1);
    assert.ok(line.lastSync >= before && line.lastSync <= Date.now() / 1000, `${line.lastSync}`);
    await waitForLog(serverB, ["trustline-received", "account=bob", "amount=100", "counter=1"]);
  });

  await t.step("alice changes it to 250: the new amount and counter arrive", async () => {
    await commands.setTrustline(aliceClient, bob.ref, 250n);
    assert.deepEqual(await confirmedOut(aliceClient, bob), {
      amount: 250n,
      counter: 2,
      syncOut: 2,
    });
    const line = await commands.getTrustlineIn(bobClient, alice.ref);
    assert.equal(line.amount, 250n);
    assert.equal(line.syncIn, 2);
  });

  await t.step(
    "sync-trustline-in: bob asks again, nothing changed, his lastSync moves",
    async () => {
      await movesLastSync(bobClient, alice, () => commands.syncTrustlineIn(bobClient, alice.ref));
      const line = await commands.getTrustlineIn(bobClient, alice.ref);
      assert.equal(line.amount, 250n);
      assert.equal(line.syncIn, 2);
    },
  );

  await t.step(
    "sync-trustline-out: alice resends, bob's lastSync moves, still synced",
    async () => {
      await movesLastSync(bobClient, alice, () => commands.syncTrustlineOut(aliceClient, bob.ref));
      assert.deepEqual(await confirmedOut(aliceClient, bob), {
        amount: 250n,
        counter: 2,
        syncOut: 2,
      });
      assert.equal((await commands.getTrustlineIn(bobClient, alice.ref)).syncIn, 2);
    },
  );

  await t.step("the CLI client prints the trustline as JSON and exits 0", async () => {
    await using dir = await tempDir();
    // A fresh counter file starts at 1, below what the library client used: the client
    // recovers from the server's signed replay answer and succeeds on its second try.
    const counterFile = `${dir.path}/alice.counter`;
    const result = await rippleClient(alice, counterFile, [
      "--json",
      "get-trustline-out",
      `bob@${bob.address}`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      peer: `bob@${bob.address}`,
      amount: "250",
      counter: 2,
      syncOut: 2,
      synced: true,
    });
    assert.ok(Number(await Deno.readTextFile(counterFile)) > 2);

    const refused = await rippleClient(alice, counterFile, [
      "--json",
      "get-trustline-out",
      `carol@${bob.address}`,
    ]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, "");
    assert.match(refused.stderr, /unknown peer: carol@.* is not a peer of alice/);
  });
});

Deno.test("a trustline set while the peer's server is down arrives after it restarts", async () => {
  await using pair = await alicePeersBob();
  const { serverA, serverB, alice, bob } = pair;
  const aliceClient = clientFor(alice);

  await serverB.stop();
  const since = serverA.logs().length;
  await commands.setTrustline(aliceClient, bob.ref, 40n);
  assert.deepEqual(await commands.getTrustlineOut(aliceClient, bob.ref), {
    amount: 40n,
    counter: 1,
    syncOut: 0,
  });
  // The first send fails, and so does the first resend: the sender keeps trying.
  await waitFor(
    () =>
      serverA.logs().slice(since).filter((line) =>
        line.includes("send-failed") && line.includes("command=server-set-trustline")
      ).length >= 2,
    5_000,
    "two failed sends of the trustline while bob's server is down",
  );

  await serverB.start();
  // Resends back off from 500 ms, doubling: the next one may be several seconds away.
  assert.deepEqual(await confirmedOut(aliceClient, bob, 30_000), {
    amount: 40n,
    counter: 1,
    syncOut: 1,
  });
  const line = await commands.getTrustlineIn(clientFor(bob), alice.ref);
  assert.equal(line.amount, 40n);
  assert.equal(line.syncIn, 1);
  assert.ok(line.lastSync > 0);
});

Deno.test("a trustline accepted just before its server crashes is still delivered", async () => {
  await using pair = await alicePeersBob();
  const { serverA, serverB, alice, bob } = pair;
  const aliceClient = clientFor(alice);

  await serverB.stop();
  await commands.setTrustline(aliceClient, bob.ref, 60n);
  // SIGKILL right after the ok: no checkpoint ran, the change is only in the journal.
  await serverA.kill();
  const since = serverA.logs().length;
  await serverA.start();
  await waitForLog(serverA, ["node-opened", "pending=1"], { since });
  await serverB.start();

  assert.deepEqual(await confirmedOut(aliceClient, bob, 30_000), {
    amount: 60n,
    counter: 1,
    syncOut: 1,
  });
  assert.equal((await commands.getTrustlineIn(clientFor(bob), alice.ref)).amount, 60n);
});
