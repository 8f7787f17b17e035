import assert from "node:assert/strict";
import * as api from "../../src/client/commands.ts";
import { ServerCommand } from "../../src/wire/commands.ts";
import { Reason } from "../../src/wire/reasons.ts";
import { freePort, startServer, startServers, waitFor } from "./harness.ts";
import { startProxy } from "./_proxy.ts";
import { chain, outcome, pay } from "./_payments.ts";

/** Deadlines of seconds: 3 s after the commit, released over 2 s in chunks of 0.5 s. */
const SHORT = [
  ...["--commit-deadline-ms", "3000", "--commit-margin-ms", "50"],
  ...["--release-period-ms", "2000", "--release-chunk-ms", "500"],
  ...["--release-grace-ms", "0", "--query-retry-max-ms", "200"],
];

Deno.test("the seller's server stopped after the lock: the buyer's payment ends and the buyer's and the hop's books agree", async (t) => {
  // c's server sits behind a proxy that holds the commit back until c is stopped.
  const port = freePort("127.0.0.4");
  await using proxy = startProxy("127.0.0.6", `127.0.0.4:${port}`);
  await using seller = await startServer({
    host: "127.0.0.4",
    port,
    publicAddress: proxy.address,
    args: SHORT,
  });
  await using ends = await startServers(["127.0.0.2", "127.0.0.3"], { args: SHORT });
  const [s1, s2] = ends.servers;
  const payments = await chain([s1, s2, seller], [100n, 100n]);
  const [buyer, hop, sellerClient] = payments.clients;
  const [a, b, c] = payments.accounts;
  proxy.block(ServerCommand.Commit);

  let id: Uint8Array = new Uint8Array();
  await t.step("the payment is locked all the way and committed down to b", async () => {
    id = await pay(payments, 40n);
    await waitFor(async () => (await api.getPayment(hop, id)).state === 4, 10_000, "b commits");
  });
  await t.step(
    "c's server stops (SIGSTOP); the commit is let through to a server that cannot answer",
    () => {
      seller.signal("SIGSTOP");
      proxy.unblock();
    },
  );
  await t.step("past b's deadline the payment is overdue, waiting on c", async () => {
    await waitFor(
      async () => (await api.getPayment(hop, id)).wait?.overdue === true,
      10_000,
      "the payment to be overdue at b",
    );
    const { wait } = await api.getPayment(hop, id);
    assert.equal(wait?.kind, "answer");
    assert.deepEqual(wait?.on, c.ref);
  });
  await t.step(
    "the buyer's payment ends, released, and its books and the hop's agree",
    async () => {
      const status = await outcome(buyer, id, 20_000);
      assert.deepEqual([api.PAYMENT_STATES[status.state], status.reason], [
        "failed",
        Reason.Released,
      ]);
      const [ab, ba] = [await api.getBalance(buyer, b.ref), await api.getBalance(hop, a.ref)];
      assert.deepEqual(
        [ab.balance, ba.balance, ab.lockedOut, ba.lockedIn],
        [0n, 0n, 0n, 0n],
      );
      const bc = await api.getBalance(hop, c.ref);
      assert.deepEqual([bc.balance, bc.lockedOut], [0n, 0n], "b owes c nothing");
    },
  );
  await t.step("c's server continues; it ends owed nothing by b, as b's books say", async () => {
    seller.signal("SIGCONT");
    await waitFor(
      async () => {
        const cb = await api.getBalance(sellerClient, b.ref);
        return cb.balance === 0n && cb.lockedIn === 0n;
      },
      20_000,
      "c's books to settle",
    );
    const final = await outcome(sellerClient, id, 20_000);
    assert.ok([6, 7].includes(final.state), "c's record ended");
  });
});
