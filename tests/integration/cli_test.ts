/** The command line against real servers: profiles, the display unit, payments in words, logs in words. */

import assert from "node:assert/strict";
import * as commands from "../../src/client/commands.ts";
import {
  addAccount,
  addPeers,
  clientFor,
  ripple,
  type RippleResult,
  startServers,
  tempDir,
  waitFor,
} from "./harness.ts";

const UNIT = ["--unit", "hours", "--decimals", "2"];

Deno.test("a member with profiles pays in hours and reads every answer in words", async (t) => {
  await using group = await startServers(["127.0.0.2", "127.0.0.3"], { args: UNIT });
  const [serverA, serverB] = group.servers;
  const [alice, bob] = await Promise.all([
    addAccount(serverA, "alice"),
    addAccount(serverB, "bob"),
  ]);
  await addPeers(alice, bob);
  await using home = await tempDir();
  const env = { XDG_CONFIG_HOME: home.path };
  const client = (args: string[], extra: Record<string, string> = {}) =>
    ripple(["client", ...args], { env: { ...env, ...extra } });
  const ok = (result: RippleResult) => {
    assert.equal(result.code, 0, result.stdout + result.stderr);
    return result.stdout;
  };

  await t.step("profiles: no --server, --account or --key-file", async () => {
    for (const account of [alice, bob]) {
      const key = await Deno.readTextFile(account.keyFile);
      ok(
        await ripple(["profile", "add", `${account.username}@${account.server}`], {
          env,
          stdin: key,
        }),
      );
    }
    assert.match(ok(await ripple(["profile", "list"], { env })), /^\* alice {2}alice on /m);
    assert.match(
      ok(await client(["info"])),
      new RegExp(`Server ${alice.address}: amounts in hours, with 2 decimal places`),
    );
    assert.match(ok(await client(["info"], { RIPPLE_PROFILE: "bob" })), new RegExp(bob.address));
    // Counters live in the client's directory, not beside a key file.
    await Deno.stat(`${home.path}/ripple/counters/alice@${alice.server}`);
    await assert.rejects(Deno.stat(`${alice.keyFile}.counter`), Deno.errors.NotFound);
    const refused = await ripple(["profile", "add", `alice@${alice.server}`], { env, stdin: "" });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /no client key on standard input/);
  });

  await t.step(
    "amounts are read and shown in the server's unit; the wire keeps integers",
    async () => {
      const set = ok(
        await client(["--profile", "bob", "set-trustline", `alice@${alice.address}`, "100.5"]),
      );
      assert.match(set, /set to 100\.50 hours/);
      await waitFor(
        async () => (await commands.getTrustlineIn(clientFor(alice), bob.ref)).amount === 10050n,
        5_000,
        "alice's server holding bob's trustline of 10050",
      );
      const tooFine = await client([
        "--profile",
        "bob",
        "set-trustline",
        `alice@${alice.address}`,
        "1.005",
      ]);
      assert.equal(tooFine.code, 2);
      assert.match(
        tooFine.stderr,
        /more than the server's 2 decimal places; amounts here are hours/,
      );
      const zero = await client(["pay", `bob@${bob.address}`, "0", "--id", "00".repeat(32)]);
      assert.equal(zero.code, 2);
      assert.match(zero.stderr, /AMOUNT: a payment must be greater than 0/);
      assert.doesNotMatch(zero.stderr, /from 0/);
    },
  );

  let id = "";
  await t.step("a payment; peers and payments say who owes whom, with whom and when", async () => {
    const received = await client(["--profile", "bob", "receive", `alice@${alice.address}`, "25"]);
    id = ok(received).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    // The routing label goes to the buyer beside the id, for a walk instead of a flood, and
    // the id is a receipt's, so the buyer demands it (docs/protocol.md §6).
    const label = received.stderr.match(/--label ([A-Za-z0-9_-]+) --receipt\)/)?.[1];
    assert.ok(label !== undefined, received.stderr);
    const paid = ok(
      await client([
        "pay",
        `bob@${bob.address}`,
        "25",
        "--id",
        id,
        "--label",
        label,
        "--receipt",
        "--wait",
      ]),
    );
    assert.match(paid, /completed \(buyer, 25\.00 hours\)/);
    const peers = ok(await client(["peers"]));
    assert.match(
      peers,
      new RegExp(
        `we owe bob@${bob.address} 25\\.00 hours; we trust them up to 0\\.00 hours, they trust us up to 100\\.50 hours`,
      ),
    );
    const theirs = ok(await client(["--profile", "bob", "peers"]));
    assert.match(theirs, new RegExp(`alice@${alice.address} owes us 25\\.00 hours`));
    const list = ok(await client(["payments"]));
    const line = list.split("\n").find((entry) => entry.includes(id))!;
    assert.match(
      line,
      new RegExp(`^(\\S+Z) {2}completed {2}to bob@${bob.address} {2}25\\.00 hours`),
    );
    const when = Date.parse(line.split(" ")[0]);
    assert.ok(Math.abs(Date.now() - when) < 60_000, line);
    const json = JSON.parse(ok(await client(["--json", "--profile", "bob", "payments"])));
    assert.equal(json.payments[0].counterpart, `alice@${alice.address}`);
    assert.equal(json.payments[0].amount, "25.00");
  });

  await t.step("an id no seller announced fails naming what to check", async () => {
    const unannounced = "ef".repeat(32);
    const failed = await client(["pay", `bob@${bob.address}`, "5", "--id", unannounced, "--wait"]);
    assert.equal(failed.code, 1);
    assert.match(
      failed.stdout,
      /failed \(buyer, 5\.00 hours\): no path .*check that the seller's receive came first, with this payment id and amount/,
    );
    await waitForLine(serverA, /payment-failed .*reason="no path with enough credit/);
  });

  await t.step("paying 11 on a receive of 10 is not called busy", async () => {
    const other = ok(await client(["--profile", "bob", "receive", `alice@${alice.address}`, "10"]))
      .trim();
    const wrong = await client(["pay", `bob@${bob.address}`, "11", "--id", other, "--wait"]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout + wrong.stderr, /amount/);
    assert.doesNotMatch(wrong.stdout + wrong.stderr, /busy|try again/);
  });

  await t.step("refusals are logged with their status and reason in words", async () => {
    const used = await client([
      "--profile",
      "bob",
      "receive",
      `alice@${alice.address}`,
      "1",
      "--id",
      id,
    ]);
    assert.equal(used.code, 1);
    assert.match(used.stderr, /refused: this payment id was already used/);
    await waitForLine(
      serverB,
      /client-refused .*status=refused reason="this payment id was already used"/,
    );
  });

  await t.step(
    "removing a peer with a balance is refused while the server runs, and after",
    async () => {
      const removeAlice = () =>
        ripple(["peer", "remove", "bob", `alice@${alice.address}`, "--datadir", bob.datadir]);
      const running = await removeAlice();
      assert.equal(running.code, 1);
      assert.match(running.stderr, /a ripple server is running on .*: stop it first \(peer remove/);
      await serverB.stop();
      // The datadir commands read the unit from ripple.conf, where an operator keeps it.
      await Deno.writeTextFile(`${bob.datadir}/ripple.conf`, "unit = hours\ndecimals = 2\n");
      const owed = await removeAlice();
      assert.equal(owed.code, 1);
      assert.match(
        owed.stderr,
        new RegExp(`the balance: alice@${alice.address} owes us 25\\.00 hours`),
      );
    },
  );
});

async function waitForLine(server: { logs(): string[] }, pattern: RegExp): Promise<void> {
  await waitFor(
    () => server.logs().some((line) => pattern.test(line)),
    5_000,
    () => `a log line matching ${pattern} in:\n${server.logs().slice(-10).join("\n")}`,
  );
}
