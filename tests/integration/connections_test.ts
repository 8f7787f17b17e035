/**
 * Fair service of connections at a real server: an idle flood from one address, shutdown
 * with connections in hand, and a server out of file descriptors.
 */

import assert from "node:assert/strict";
import * as commands from "../../src/client/commands.ts";
import type { Client } from "../../src/client/client.ts";
import { FloodThread } from "./_flood_thread.ts";
import { IdleFlood } from "./_idle_flood.ts";
import {
  type Account,
  addAccount,
  addPeers,
  clientFor,
  freePort,
  rippleClient,
  type RippleServer,
  sendRaw,
  startServer,
  tempDir,
  waitFor,
  waitForLog,
} from "./harness.ts";

const FLOOD = 1_500;
/** The flood's source address; clients connect unbound, so from 127.0.0.1. */
const ATTACKER = "127.0.0.50";
const DEFAULT_PER_SOURCE = 64;
const DEFAULT_MAX = 512;

/**
 * Fails, saying how to fix it, if this process may not hold `needed` descriptors: a test
 * that cannot open its connections must not pass by opening fewer. Deno raises its soft
 * limit to the hard one at start; a child shell inherits the limit this process runs with.
 */
async function assertOpenFilesLimit(needed: number): Promise<void> {
  const output = await new Deno.Command("sh", { args: ["-c", "ulimit -Sn"] }).output();
  const limit = new TextDecoder().decode(output.stdout).trim();
  assert.ok(
    limit === "unlimited" || Number(limit) >= needed,
    `this test holds ${needed} sockets open, but the open-files limit is ${limit}: ` +
      `raise it (ulimit -n ${needed}) before running the tests`,
  );
}

/** alice on `server`, with a peer bob on a server that never runs (her trustline is local). */
async function aliceWithPeer(server: RippleServer, datadir: string) {
  const alice = await addAccount(server, "alice");
  const bob = await addAccount(
    { address: `127.0.0.9:${freePort("127.0.0.9")}`, datadir },
    "bob",
  );
  await addPeers(alice, bob);
  return { alice, bob };
}

/** Client commands one after another until `until` resolves (at least `atLeast` of them). */
async function commandsDuring(
  client: Client,
  bob: Account,
  until: Promise<void>,
  atLeast: number,
): Promise<number> {
  let done = false;
  until.then(() => done = true);
  let answered = 0;
  // Each command throws if it is not answered within the client's own timeout (10 s).
  while (!done || answered < atLeast) {
    await commands.getTrustlineOut(client, bob.ref);
    answered++;
  }
  return answered;
}

Deno.test("1,500 idle connections from one address do not hold up client commands from another", async (t) => {
  await assertOpenFilesLimit(FLOOD + 500);
  await using peers = await tempDir();

  await t.step("by default the flooding address is held to its own cap", async () => {
    await using server = await startServer({ host: "127.0.0.6" });
    const { alice, bob } = await aliceWithPeer(server, peers.path);
    const client = clientFor(alice);
    await using flood = IdleFlood.start({ address: server.address, from: ATTACKER, count: FLOOD });
    const answered = await commandsDuring(client, bob, flood.settled(), 20);
    assert.ok(answered >= 20);
    assert.equal(flood.stats.failed, 0, "every connection was accepted, none left in the backlog");
    await waitFor(
      () => flood.stats.open <= DEFAULT_PER_SOURCE,
      5_000,
      () => `at most ${DEFAULT_PER_SOURCE} open (${JSON.stringify(flood.stats)})`,
    );
    await waitForLog(server, [
      "warn connection-evicted",
      "listener=tcp",
      `source=${ATTACKER}`,
      "reason=source-full",
    ]);

    // The real CLI, a new process with its own 10 s timeout, while the flood's last
    // connections are still held.
    const counterFile = `${peers.path}/alice.counter`;
    const cli = await rippleClient(alice, counterFile, [
      "get-trustline-out",
      bob.ref.username + "@" + bob.address,
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.ok(flood.stats.open > 0, "the flood still held connections during the CLI command");
  });

  await t.step(
    "with the source cap above the server's, the longest-idle connections make room",
    async () => {
      await using server = await startServer({
        host: "127.0.0.6",
        args: ["--max-connections-per-source", "100000"],
      });
      const { alice, bob } = await aliceWithPeer(server, `${peers.path}/again`);
      const client = clientFor(alice);
      await using flood = IdleFlood.start({
        address: server.address,
        from: ATTACKER,
        count: FLOOD,
      });
      await flood.settled();
      assert.equal(flood.stats.failed, 0);
      // The server is full of the flood's idle connections.
      await waitFor(
        () => flood.stats.open === DEFAULT_MAX,
        5_000,
        () => `${DEFAULT_MAX} open (${JSON.stringify(flood.stats)})`,
      );
      const answered = await commandsDuring(client, bob, Promise.resolve(), 20);
      assert.equal(answered, 20);
      // The first command's connection took the slot of the flood's longest-idle one; the
      // next ones found that slot free again once the command before was answered.
      assert.ok(flood.stats.open < DEFAULT_MAX, JSON.stringify(flood.stats));
      await waitForLog(server, [
        "warn connection-evicted",
        `source=${ATTACKER}`,
        "reason=server-full",
      ]);
    },
  );
});

Deno.test("a peer's server datagrams get through a server full of idle connections", async () => {
  await assertOpenFilesLimit(FLOOD + 500);
  await using a = await startServer({ host: "127.0.0.6" });
  await using b = await startServer({
    host: "127.0.0.7",
    args: ["--max-connections-per-source", "100000"],
  });
  const alice = await addAccount(a, "alice");
  const bob = await addAccount(b, "bob");
  await addPeers(alice, bob);
  await using flood = IdleFlood.start({ address: b.address, from: ATTACKER, count: FLOOD });
  await flood.settled();
  await waitFor(() => flood.stats.open === DEFAULT_MAX, 5_000, () => JSON.stringify(flood.stats));

  // alice's server sends the trustline to bob's (datagram 128), which confirms it (130).
  const client = clientFor(alice);
  await commands.setTrustline(client, bob.ref, 100n);
  await waitFor(
    async () => {
      const out = await commands.getTrustlineOut(client, bob.ref);
      return out.syncOut === out.counter;
    },
    20_000,
    "bob's server confirming the trustline",
  );
  assert.equal((await commands.getTrustlineIn(clientFor(bob), alice.ref)).amount, 100n);
  assert.ok(flood.stats.open > 0, "the flood still held connections at bob's server");
  // Each datagram was taken at the first try, within the sender's own deadline.
  const failed = [...a.logs(), ...b.logs()].filter((line) => line.includes("send-failed"));
  assert.deepEqual(failed, []);
});

Deno.test("a connection flood does not push out client requests that have arrived", async () => {
  await assertOpenFilesLimit(FLOOD + 500);
  await using peers = await tempDir();
  // No source cap: each new connection of the flood evicts the longest-idle one.
  await using server = await startServer({
    host: "127.0.0.6",
    args: ["--max-connections-per-source", "100000"],
  });
  const { alice, bob } = await aliceWithPeer(server, peers.path);
  // In a thread of its own, so that the clients write their requests as soon as they connect.
  await using flood = await FloodThread.start({
    address: server.address,
    from: ATTACKER,
    count: FLOOD,
    reopenAfterMs: 0,
  });
  const answered = await commandsDuring(clientFor(alice), bob, Promise.resolve(), 20);
  assert.equal(answered, 20);
  const report = await flood.stop();
  assert.ok(
    report.stats.connected > FLOOD,
    `the flood reopened connections: ${JSON.stringify(report.stats)}`,
  );
  await waitForLog(server, ["connection-evicted", `source=${ATTACKER}`, "reason=server-full"]);
  const clientsEvicted = server.logs().filter((line) =>
    line.includes("connection-evicted") && line.includes("source=127.0.0.1 ")
  );
  assert.deepEqual(clientsEvicted, [], "a client's connection, its request sent, was evicted");
});

Deno.test("SIGTERM closes the connections still waiting for a datagram at once", async () => {
  // With a 60 s read deadline, waiting it out would exceed the harness's 10 s for a stop.
  await using server = await startServer({
    host: "127.0.0.6",
    args: ["--read-timeout-ms", "60000"],
    logLevel: "debug",
  });
  const { host, port } = { host: server.host, port: server.port };
  // The harness's own connection, made to see the server accept, is done with first.
  await waitForLog(server, ["debug connection-empty"]);
  await using cleanup = new AsyncDisposableStack();
  const idle = [];
  for (let i = 0; i < 3; i++) idle.push(cleanup.use(await Deno.connect({ hostname: host, port })));
  const partial = cleanup.use(await Deno.connect({ hostname: host, port }));
  await partial.write(new Uint8Array(100));
  // The server accepts in order: once a later connection is answered, these are in hand.
  const answer = await sendRaw(server.address, new Uint8Array(389));
  assert.ok(answer.bytes.length > 0, "389 zero bytes get a malformed answer");

  const stopping = performance.now();
  await server.stop();
  const stoppedMs = performance.now() - stopping;
  assert.ok(stoppedMs < 60_000, `stopped after ${stoppedMs} ms`);
  assert.ok(
    server.logs().some((line) => /info connections-closing waiting=4 serving=0/.test(line)),
    server.logs().join("\n"),
  );
  // The server closed each of them first: they read the end of the stream, not a reset.
  for (const conn of [...idle, partial]) {
    assert.equal(await conn.read(new Uint8Array(16)), null);
  }
});

Deno.test("a server out of file descriptors keeps accepting, and holds fewer connections from then on", async () => {
  await using peers = await tempDir();
  // About 30 descriptors go to the runtime and the store; the rest is not enough for the
  // flood below, which the caps alone would let in.
  await using server = await startServer({
    host: "127.0.0.6",
    openFilesLimit: 96,
    args: ["--max-connections-per-source", "100000"],
  });
  const { alice, bob } = await aliceWithPeer(server, peers.path);
  await using flood = IdleFlood.start({ address: server.address, from: ATTACKER, count: 300 });
  await flood.settled();
  await waitForLog(server, ["warn accept-failed", "Too many open files"]);
  await waitForLog(server, [
    "warn connections-capped",
    "listener=tcp",
    "configured=512",
    "reason=out-of-files",
  ]);
  const answered = await commandsDuring(clientFor(alice), bob, Promise.resolve(), 20);
  assert.equal(answered, 20);
  await waitForLog(server, [
    "warn connection-evicted",
    `source=${ATTACKER}`,
    "reason=server-full",
  ]);
  const capped = server.logs().find((line) => line.includes("connections-capped"))!;
  const ceiling = Number(/max_connections=(\d+)/.exec(capped)![1]);
  assert.ok(ceiling > 0 && ceiling < 96, capped);
});
