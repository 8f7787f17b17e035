/**
 * Real servers on a small tmpfs: a full disk refuses changes clearly, keeps answering and
 * resumes by itself; any other storage error stops the server with status 74, and its
 * restart replays the journal.
 */

import assert from "node:assert/strict";
import type { Client } from "../../src/client/client.ts";
import { ClientError } from "../../src/client/client.ts";
import * as commands from "../../src/client/commands.ts";
import { STORAGE_FAILED_EXIT } from "../../src/cli/serve.ts";
import { Status } from "../../src/wire/response.ts";
import {
  type Account,
  addAccount,
  addPeers,
  clientFor,
  rippleClient,
  type RippleServer,
  sleep,
  startServer,
  tempDir,
  waitFor,
} from "./harness.ts";
import { mountTmpfs } from "./_tmpfs.ts";

/** Short resend delays, so a peer's datagram refused for lack of space comes back soon. */
const FAST = ["--retry-base-ms", "100", "--retry-max-ms", "500"];

/** alice's server on the tmpfs, bob's on the ordinary disk; peers trusting each other for 100. */
async function pairOn(tmpfs: string) {
  await using cleanup = new AsyncDisposableStack();
  const serverA = cleanup.use(
    await startServer({ host: "127.0.0.2", datadir: `${tmpfs}/a`, args: FAST }),
  );
  const serverB = cleanup.use(await startServer({ host: "127.0.0.3", args: FAST }));
  const alice = await addAccount(serverA, "alice");
  const bob = await addAccount(serverB, "bob");
  await addPeers(alice, bob);
  const [a, b] = [clientFor(alice), clientFor(bob)];
  await commands.setTrustline(a, bob.ref, 100n);
  await commands.setTrustline(b, alice.ref, 100n);
  await synced(a, b, alice, bob);
  const owned = cleanup.move();
  return { serverA, serverB, alice, bob, a, b, [Symbol.asyncDispose]: () => owned.disposeAsync() };
}

/** Waits until both sides of the pair hold each other's latest trustline. */
async function synced(a: Client, b: Client, alice: Account, bob: Account): Promise<void> {
  await waitFor(
    async () => {
      const [outA, inB] = [
        await commands.getTrustlineOut(a, bob.ref),
        await commands.getTrustlineIn(b, alice.ref),
      ];
      const [outB, inA] = [
        await commands.getTrustlineOut(b, alice.ref),
        await commands.getTrustlineIn(a, bob.ref),
      ];
      return outA.syncOut === outA.counter && inB.amount === outA.amount &&
        outB.syncOut === outB.counter && inA.amount === outB.amount;
    },
    15_000,
    "both sides of the pair agreeing on both trustlines",
  );
}

/** Both sides agree on everything they share: trustlines both ways and the balance. */
async function agree(a: Client, b: Client, alice: Account, bob: Account): Promise<void> {
  await synced(a, b, alice, bob);
  const [ab, ba] = [await commands.getBalance(a, bob.ref), await commands.getBalance(b, alice.ref)];
  assert.equal(ab.balance, -ba.balance);
  assert.equal(ab.lockedIn + ab.lockedOut + ba.lockedIn + ba.lockedOut, 0n);
}

async function pay(buyer: Client, seller: Client, buyerRef: Account, sellerRef: Account) {
  const id = crypto.getRandomValues(new Uint8Array(32));
  await commands.newPaymentIn(seller, buyerRef.ref, id, 10n);
  await commands.newPaymentOut(buyer, sellerRef.ref, id, 10n);
  const status = await commands.waitForPayment(buyer, id, { timeoutMs: 15_000 });
  assert.equal(commands.isFinalState(status.state), true);
}

function logged(server: RippleServer, event: string): number {
  return server.logs().filter((line) => line.includes(` ${event}`)).length;
}

Deno.test("a full disk: changes refused clearly, reads answered, and writes resume when space returns", async (t) => {
  await using tmpfs = await mountTmpfs(4096);
  await using pair = await pairOn(tmpfs.path);
  const { serverA, alice, bob, a, b } = pair;
  await pay(a, b, alice, bob);
  await tmpfs.fill();

  let acknowledged = 100n;
  await t.step(
    "once no page is left, a change is refused: busy, the server's disk is full",
    async () => {
      // What still fits in the journal's last page is written; the first change past it is not.
      let refused: ClientError | null = null;
      for (let amount = 101n; refused === null && amount < 200n; amount++) {
        try {
          await commands.setTrustline(a, bob.ref, amount);
          acknowledged = amount;
        } catch (error) {
          if (!(error instanceof ClientError)) throw error;
          refused = error;
        }
      }
      assert.ok(refused !== null, "every change was accepted on a full disk");
      assert.equal(refused.status, Status.Busy);
      assert.match(refused.message, /the server's disk is full/);
      assert.equal(logged(serverA, "disk-full"), 1, serverA.logs().join("\n"));
    },
  );
  await t.step("the command line says so too", async () => {
    await using dir = await tempDir();
    const { code, stderr } = await rippleClient(alice, `${dir.path}/counter`, [
      "set-trustline",
      bob.ref.username + "@" + bob.ref.address,
      "300",
    ]);
    assert.equal(code, 1);
    assert.match(stderr, /busy: the server's disk is full/);
  });
  await t.step("reads are still answered, with the last acknowledged change", async () => {
    assert.equal((await commands.getTrustlineOut(a, bob.ref)).amount, acknowledged);
    assert.equal((await commands.getTrustlineIn(a, bob.ref)).amount, 100n);
    assert.equal((await commands.getBalance(a, bob.ref)).balance, -10n);
  });
  await t.step("a peer's change waits: it is not applied while the disk is full", async () => {
    await commands.setTrustline(b, alice.ref, 250n);
    // Long enough for several of bob's resends (at most 500 ms apart) to be refused.
    await sleep(2_000);
    assert.equal((await commands.getTrustlineIn(a, bob.ref)).amount, 100n);
    const line = await commands.getTrustlineOut(b, alice.ref);
    assert.ok(line.syncOut < line.counter, "bob's change is not confirmed");
    assert.equal(serverA.running, true);
  });
  await t.step(
    "space returns: without a restart, the peer's change lands and changes are accepted",
    async () => {
      await tmpfs.free();
      await waitFor(
        async () => (await commands.getTrustlineIn(a, bob.ref)).amount === 250n,
        15_000,
        "bob's resend reaching alice's server",
      );
      await commands.setTrustline(a, bob.ref, 120n);
      await pay(b, a, bob, alice);
      // A nearly full disk can take a small write now and then: each time the disk fills,
      // the server says so, and each time space returns, it says that too, last.
      const [full, returned] = [
        logged(serverA, "disk-full"),
        logged(serverA, "disk-space-returned"),
      ];
      assert.ok(full >= 1, "the server said the disk was full");
      assert.equal(returned, full, "every full disk was followed by space returning");
      assert.equal(logged(serverA, "storage-failed"), 0);
    },
  );
  await t.step("both sides of the pair agree, and the server stops cleanly", async () => {
    await agree(a, b, alice, bob);
    assert.equal((await commands.getTrustlineOut(a, bob.ref)).amount, 120n);
    await serverA.stop();
  });
});

Deno.test("a storage error that is not a full disk stops the server with status 74, and its restart replays the journal", async () => {
  await using tmpfs = await mountTmpfs(4096);
  await using pair = await pairOn(tmpfs.path);
  const { serverA, alice, bob, a, b } = pair;
  const journal = `${tmpfs.path}/a/ripple/journal`;
  // An immutable journal directory: the next segment cannot be created (EPERM).
  await chattr("+i", journal);
  try {
    await commands.setTrustline(a, bob.ref, 70n);
    const status = await serverA.exited(15_000);
    assert.equal(status.code, STORAGE_FAILED_EXIT);
    const errors = serverA.logs().filter((line) => / error /.test(line));
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(errors[0], /storage-failed.*Operation not permitted/);
  } finally {
    await chattr("-i", journal);
  }
  await serverA.start();
  assert.equal((await commands.getTrustlineOut(a, bob.ref)).amount, 70n, "the acknowledged change");
  await agree(a, b, alice, bob);
});

async function chattr(flag: string, path: string): Promise<void> {
  const output = await new Deno.Command("chattr", { args: [flag, path], stderr: "piped" }).output();
  assert.ok(output.success, `chattr ${flag} ${path}: ${new TextDecoder().decode(output.stderr)}`);
}
