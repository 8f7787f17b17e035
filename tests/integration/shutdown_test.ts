import assert from "node:assert/strict";
import * as api from "../../src/client/commands.ts";
import { addAccount, addPeers, clientFor, sleep, startServer } from "./harness.ts";

Deno.test("SIGTERM in the middle of a burst loses nothing that was acknowledged", async () => {
  await using server = await startServer({ host: "127.0.0.2" });
  // The peers live on a server that never runs: the trustlines stay unconfirmed, which is fine.
  const elsewhere = { address: "127.0.0.9:9", datadir: await Deno.makeTempDir() };
  const owners = [];
  for (let i = 0; i < 8; i++) {
    const owner = await addAccount(server, `owner${i}`);
    const peer = await addAccount(elsewhere, `peer${i}`);
    await addPeers(owner, peer);
    owners.push({ owner, peer, client: clientFor(owner), acknowledged: 0, sent: 0 });
  }

  // Each client sets its trustline again and again (amount = 100 × change number) until the
  // server goes away; SIGTERM lands in the middle.
  const burst = owners.map(async (entry) => {
    for (;;) {
      entry.sent++;
      try {
        await api.setTrustline(entry.client, entry.peer.ref, BigInt(entry.sent * 100));
        entry.acknowledged = entry.sent;
      } catch {
        return;
      }
    }
  });
  await sleep(300);
  await server.stop();
  await Promise.all(burst);
  assert.ok(
    owners.every((entry) => entry.acknowledged > 0),
    "every client got some answers before the stop",
  );

  await server.start();
  for (const entry of owners) {
    const line = await api.getTrustlineOut(clientFor(entry.owner), entry.peer.ref);
    // Acknowledged changes are all there; at most the one in flight at the stop was applied too.
    assert.ok(
      line.counter === entry.acknowledged || line.counter === entry.acknowledged + 1,
      `${entry.owner.username}: counter ${line.counter}, acknowledged ${entry.acknowledged}`,
    );
    assert.equal(
      line.amount,
      BigInt(line.counter * 100),
      "the amount belongs to the same change as the counter",
    );
  }
  assert.ok(server.logs().some((line) => line.includes(" info stopping")));
  await Deno.remove(elsewhere.datadir, { recursive: true });
});
