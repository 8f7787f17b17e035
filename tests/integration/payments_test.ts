import assert from "node:assert/strict";
import * as api from "../../src/client/commands.ts";
import { ServerCommand } from "../../src/wire/commands.ts";
import { freePort, startServer, startServers, waitFor } from "./harness.ts";
import { startProxy } from "./_proxy.ts";
import { assertBooks, chain, outcome, pay } from "./_payments.ts";

/** Locks and commit resends long enough that only the test decides when a step goes through. */
const PATIENT = ["--lock-timeout-ms", "60000", "--commit-query-ms", "60000"];

Deno.test("a 3-hop payment completes and both sides of every pair agree", async () => {
  await using group = await startServers(["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]);
  const payments = await chain(group.servers, [100n, 100n, 100n]);
  const id = await pay(payments, 30n);
  assert.equal(api.PAYMENT_STATES[(await outcome(payments.clients[0], id)).state], "completed");
  assert.equal(api.PAYMENT_STATES[(await outcome(payments.clients[3], id)).state], "completed");
  await assertBooks(payments, [30n, 30n, 30n]);
});

for (
  const [step, held, between] of [
    ["lock and commit", ServerCommand.Commit, "locked"],
    ["commit and finalize", ServerCommand.Finalize, "committed"],
  ] as const
) {
  Deno.test(`the middle server crashes and restarts between ${step}, and the books still agree`, async (t) => {
    // b's server sits behind a proxy that can hold back one step of the payment.
    const port = freePort("127.0.0.3");
    await using proxy = startProxy("127.0.0.6", `127.0.0.3:${port}`);
    await using middle = await startServer({
      host: "127.0.0.3",
      port,
      publicAddress: proxy.address,
      args: PATIENT,
    });
    await using ends = await startServers(["127.0.0.2", "127.0.0.4", "127.0.0.5"], {
      args: PATIENT,
    });
    const [s1, s3, s4] = ends.servers;
    const payments = await chain([s1, middle, s3, s4], [100n, 100n, 100n]);

    let id: Uint8Array = new Uint8Array();
    await t.step(`the payment reaches b and stops between ${step}`, async () => {
      proxy.block(held);
      id = await pay(payments, 30n);
      await waitFor(() => proxy.dropped(held) > 0, 10_000, "the held step to reach the proxy");
      const atB = await api.getPayment(payments.clients[1], id);
      // After the commit b waits for a's finalize: committing, or finalizing while its own
      // finalize towards c (sent as soon as c said committed) waits for c's answer.
      const expected = between === "locked" ? ["locking"] : ["committing", "finalizing"];
      assert.ok(expected.includes(api.PAYMENT_STATES[atB.state]), api.PAYMENT_STATES[atB.state]);
    });

    await t.step("b's server is killed and started again", async () => {
      await middle.kill();
      await middle.start();
    });

    await t.step("once the step can pass, the payment completes on every account", async () => {
      proxy.unblock();
      for (const client of payments.clients) {
        assert.equal(api.PAYMENT_STATES[(await outcome(client, id)).state], "completed");
      }
      await assertBooks(payments, [30n, 30n, 30n]);
    });
  });
}
