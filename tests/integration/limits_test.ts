import assert from "node:assert/strict";
import * as api from "../../src/client/commands.ts";
import { ServerCommand } from "../../src/wire/commands.ts";
import { Reason } from "../../src/wire/reasons.ts";
import { freePort, startServer, waitFor } from "./harness.ts";
import { startProxy } from "./_proxy.ts";
import { chain, pay } from "./_payments.ts";

/** Locks outlive the test, so only the limits decide how much they hold. */
const PATIENT = ["--lock-timeout-ms", "60000", "--search-timeout-ms", "3000"];

/**
 * The reserve-credit attack on real servers: h1@H pays h2@H through x@X, 40 payments of 50,
 * and never commits (the proxy in front of X drops the commits and the queries). X trusts
 * h1 for 1,000 and h2 trusts X for 1,000. Returns what X's locks hold on each edge, and the
 * buyer's failure reasons.
 */
async function flood(xArgs: string[]) {
  const port = freePort("127.0.0.3");
  await using proxy = startProxy("127.0.0.6", `127.0.0.3:${port}`);
  proxy.block(ServerCommand.Commit, ServerCommand.Query);
  await using x = await startServer({
    host: "127.0.0.3",
    port,
    publicAddress: proxy.address,
    args: [...PATIENT, ...xArgs],
  });
  await using h = await startServer({ host: "127.0.0.2", args: PATIENT });
  const payments = await chain([h, x, h], [1000n, 1000n]);
  const [h1, xc] = [payments.clients[0], payments.clients[1]];
  const ids: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) ids.push(await pay(payments, 50n));
  const reasons: number[] = [];
  for (const id of ids) {
    await waitFor(
      async () => (await api.getPayment(h1, id)).state >= 3,
      10_000,
      "the buyer's lock",
    );
    const { state, reason } = await api.getPayment(h1, id);
    if (state === 7) reasons.push(reason);
  }
  const fromH1 = await api.getBalance(xc, payments.accounts[0].ref);
  const toH2 = await api.getBalance(xc, payments.accounts[2].ref);
  return { lockedIn: fromH1.lockedIn, lockedOut: toH2.lockedOut, reasons, logs: x.logs() };
}

Deno.test("one flooding neighbour holds at most half of the credit an account extends it", async (t) => {
  await t.step(
    "without the limit, its locks hold all 1,000 of the 1,000 and the next 1,000",
    async () => {
      const { lockedIn, lockedOut } = await flood(["--peer-lock-share-percent", "100"]);
      assert.deepEqual([lockedIn, lockedOut], [1000n, 1000n]);
    },
  );
  await t.step(
    "with the default limit, at most 500 of each, and the buyer is told why",
    async () => {
      const { lockedIn, lockedOut, reasons, logs } = await flood([]);
      assert.deepEqual([lockedIn, lockedOut], [500n, 500n]);
      assert.equal(reasons.length, 30, "30 of the 40 payments were refused");
      const limited = [Reason.PeerLimits, Reason.PeerCreditLimit] as number[];
      assert.ok(reasons.every((r) => limited.includes(r)), `reasons ${reasons}`);
      const noted = logs.filter((l) =>
        /(search|lock)-refused-limit/.test(l) && /neighbour=a@/.test(l)
      );
      assert.ok(noted.length > 0, "the refusals are logged with the neighbour's name");
    },
  );
});
