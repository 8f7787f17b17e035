import assert from "node:assert/strict";
import { formatRecord, type PaymentRecord } from "../../src/payments/record.ts";
import { DenoFileSystem } from "../../src/store/fs.ts";
import { peerPath } from "../../src/store/paths.ts";
import { Store } from "../../src/store/store.ts";
import { Tx } from "../../src/store/tx.ts";
import { ripple, type RippleResult } from "../integration/_server.ts";

const BOB = "bob@127.0.0.3";

async function tempDatadir(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "ripple-cli-" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

function succeeded(result: RippleResult, what: string): string {
  assert.equal(result.code, 0, `${what}:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** alice in `dir`, with bob@127.0.0.3 as her peer. */
async function aliceWithBob(dir: string): Promise<void> {
  succeeded(await ripple(["account", "add", "alice", "--datadir", dir]), "account add");
  succeeded(
    await ripple(["peer", "add", "alice", BOB, "--generate", "--datadir", dir]),
    "peer add",
  );
}

const rekeyBob = (dir: string) =>
  ripple(["peer", "rekey", "alice", BOB, "--generate", "--datadir", dir]);

const peerFile = (dir: string, file: string) =>
  `${dir}/ripple/accounts/alice/peers/127.0.0.3/bob/${file}`;

function inFlight(idHex: string): PaymentRecord {
  return {
    id: new Uint8Array(32),
    idHex,
    role: "hop",
    state: "locking",
    amount: 5n,
    upstream: { username: "bob", address: "127.0.0.3" },
    downstream: null,
    counterpart: null,
    inEdge: "locked",
    outEdge: "none",
    lockExpires: 0,
    committedAt: 0,
    irrevocable: false,
    deadline: 0,
    claimAt: 0,
    releaseMs: 0,
    passWait: 0,
    passClaim: 0,
    releasedOut: 0n,
    releasedIn: 0n,
    claimed: false,
    claimedAt: 0,
    claimDelivered: 0,
    receipt: false,
    secret: null,
    reason: 0,
    createdAt: 0,
    updatedAt: 0,
    counted: [],
  };
}

Deno.test("account add prints the key alone, and a second add fails loudly, pipeline and all", async () => {
  await using data = await tempDatadir();
  const first = await ripple(["account", "add", "alice", "--datadir", data.dir]);
  assert.match(succeeded(first, "account add"), /^[0-9a-f]{64}\n$/);
  assert.match(first.stderr, /Created account alice/);

  const again = await ripple(["account", "add", "alice", "--datadir", data.dir]);
  assert.equal(again.code, 1);
  assert.equal(again.stdout, "");
  assert.match(again.stderr, /account alice already exists/);

  // As the README tour pipes it, without pipefail: the pipeline's own status is non-zero.
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const run = `deno run --allow-read --allow-write --allow-env ${main}`;
  const pipeline = await new Deno.Command("bash", {
    args: [
      "-c",
      `${run} account add alice --datadir ${data.dir} | ${run} profile add alice@127.0.0.2`,
    ],
    env: { XDG_CONFIG_HOME: `${data.dir}/config`, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.notEqual(pipeline.code, 0);
  assert.match(new TextDecoder().decode(pipeline.stderr), /no client key on standard input/);
});

Deno.test("peer add --generate prints the key alone; an empty --key says where it came from", async () => {
  await using data = await tempDatadir();
  succeeded(await ripple(["account", "add", "alice", "--datadir", data.dir]), "account add");
  const generated = await ripple([
    "peer",
    "add",
    "alice",
    BOB,
    "--generate",
    "--datadir",
    data.dir,
  ]);
  assert.match(succeeded(generated, "peer add"), /^[0-9a-f]{64}\n$/);

  const again = await ripple(["peer", "add", "alice", BOB, "--generate", "--datadir", data.dir]);
  assert.equal(again.code, 1);
  assert.equal(again.stdout, "", "KEY=$(...) stays empty and the shell sees the failure");
  const empty = await ripple([
    "peer",
    "add",
    "alice",
    "carol@127.0.0.4",
    "--key",
    "",
    "--datadir",
    data.dir,
  ]);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /--key is empty: did the command that should have printed the key/);
});

Deno.test("bad names are refused with the rules, and NAME@ADDRESS is asked for once", async () => {
  await using data = await tempDatadir();
  const badName = await ripple(["peer", "add", "Alice", BOB, "--generate", "--datadir", data.dir]);
  assert.equal(badName.code, 2);
  assert.match(badName.stderr, /"Alice" is not a valid username: use 1-32 of a-z 0-9 _ - \./);
  const badPeer = await ripple(["peer", "add", "alice", "Bob@127.0.0.3", "--generate"]);
  assert.match(badPeer.stderr, /invalid username "Bob": use 1-32 of a-z/);
  const noAt = await ripple(["peer", "add", "alice", "bob", "--generate", "--datadir", data.dir]);
  assert.equal(noAt.code, 2);
  assert.equal(noAt.stderr.match(/NAME@ADDRESS/g)?.length, 1, noAt.stderr);
  assert.match(noAt.stderr, /Run "ripple peer add --help"/);
});

Deno.test("each subcommand has its own help", async (t) => {
  const cases: [string[], RegExp, RegExp][] = [
    [
      ["client", "pay", "--help"],
      /Usage: ripple client .*pay SELLER AMOUNT --id ID/,
      /set-trustline/,
    ],
    [["client", "--profile", "x", "receive", "-h"], /ID=\$\(ripple client receive/, /pay SELLER/],
    [["account", "remove", "--help"], /Usage: ripple account remove NAME/, /account add NAME/],
    [["peer", "rekey", "--help"], /Usage: ripple peer rekey NAME/, /peer list NAME/],
    [["profile", "add", "--help"], /Usage: ripple profile add ACCOUNT@SERVER/, /profile use/],
  ];
  for (const [argv, shows, leavesOut] of cases) {
    await t.step(argv.join(" "), async () => {
      const { code, stdout } = await ripple(argv);
      assert.equal(code, 0);
      assert.match(stdout, shows);
      assert.doesNotMatch(stdout, leavesOut);
    });
  }
});

Deno.test("account and peer list show names and books; status lists names too", async () => {
  await using data = await tempDatadir();
  await aliceWithBob(data.dir);
  succeeded(await ripple(["account", "add", "carol", "--datadir", data.dir]), "account add");
  await Deno.writeTextFile(peerFile(data.dir, "balance.txt"), "-2550\n");
  await Deno.writeTextFile(peerFile(data.dir, "trustline_in.txt"), "10000\n");
  await Deno.writeTextFile(`${data.dir}/ripple.conf`, "unit = hours\ndecimals = 2\n");

  const accounts = await ripple(["account", "list", "--datadir", data.dir, "--json"]);
  assert.deepEqual(JSON.parse(succeeded(accounts, "account list")), {
    accounts: [
      { name: "alice", peers: 1, paymentsInFlight: 0 },
      { name: "carol", peers: 0, paymentsInFlight: 0 },
    ],
  });
  const peers = await ripple(["peer", "list", "alice", "--datadir", data.dir]);
  assert.match(
    succeeded(peers, "peer list"),
    /we owe bob@127\.0\.0\.3 25\.50 hours; we trust them up to 0\.00 hours, they trust us up to 100\.00 hours/,
  );
  const json = await ripple(["peer", "list", "alice", "--datadir", data.dir, "--json"]);
  assert.equal(JSON.parse(json.stdout).peers[0].balance, "-25.50");

  const status = await ripple(["status", "--datadir", data.dir]);
  assert.match(
    succeeded(status, "status"),
    /accounts: 2, peers: 1\n {2}alice: bob@127\.0\.0\.3\n {2}carol: no peers/,
  );
  const statusJson = JSON.parse(
    succeeded(await ripple(["status", "--datadir", data.dir, "--json"]), "status"),
  );
  assert.deepEqual(statusJson.accounts.map((a: { name: string }) => a.name), ["alice", "carol"]);
  assert.deepEqual(statusJson.accounts[0].peers, [BOB]);
  assert.equal(statusJson.running, false);
});

Deno.test("account remove refuses to drop a balance, a lock or a payment unless forced", async (t) => {
  await using data = await tempDatadir();
  await aliceWithBob(data.dir);
  const idHex = "ab".repeat(32);

  await t.step("a balance", async () => {
    await Deno.writeTextFile(peerFile(data.dir, "balance.txt"), "25\n");
    const refused = await ripple(["account", "remove", "alice", "--datadir", data.dir]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /account alice still holds:\n {2}- the balance: bob@127\.0\.0\.3 owes us 25/,
    );
    assert.match(refused.stderr, /--force/);
    await Deno.writeTextFile(peerFile(data.dir, "balance.txt"), "0\n");
  });

  await t.step("a lock and a payment in flight", async () => {
    await Deno.writeTextFile(peerFile(data.dir, "locked_in.txt"), "5\n");
    await Deno.mkdir(`${data.dir}/ripple/accounts/alice/payments`);
    await Deno.writeTextFile(
      `${data.dir}/ripple/accounts/alice/payments/${idHex}.txt`,
      formatRecord(inFlight(idHex)),
    );
    const refused = await ripple(["account", "remove", "alice", "--datadir", data.dir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /locked with bob@127\.0\.0\.3: 5 towards us, 0 towards them/);
    assert.match(refused.stderr, new RegExp(`payment ${idHex} in flight \\(hop, locking\\)`));
    const peerRefused = await ripple(["peer", "remove", "alice", BOB, "--datadir", data.dir]);
    assert.equal(peerRefused.code, 1);
    assert.match(peerRefused.stderr, /bob@127\.0\.0\.3 still holds with alice/);
    const rekeyRefused = await rekeyBob(data.dir);
    assert.equal(rekeyRefused.code, 1);
    assert.match(rekeyRefused.stderr, /has payments in flight with alice/);
    await Deno.stat(peerFile(data.dir, "secretkey.txt"));
  });

  await t.step("nothing while a server holds the datadir", async () => {
    using lock = await Deno.open(`${data.dir}/ripple/server.lock`, { write: true, create: true });
    await lock.lock(true);
    const refused = await ripple(["account", "remove", "alice", "--force", "--datadir", data.dir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /a ripple server is running on .*: stop it first/);
    await lock.unlock();
  });

  await t.step("forced: the account moves aside whole, and can come back", async () => {
    const forced = await ripple(["account", "remove", "alice", "--force", "--datadir", data.dir]);
    assert.match(
      succeeded(forced, "account remove --force"),
      /Removed account alice; its files are in /,
    );
    assert.match(forced.stdout, /Tell the operators of its peers' servers: bob@127\.0\.0\.3/);
    assert.match(forced.stderr, /dropped: payment/);
    const [moved] = /\S+\/removed\/\S+\/accounts\/alice/.exec(forced.stdout)!;
    assert.equal(
      (await Deno.readTextFile(`${moved}/peers/127.0.0.3/bob/locked_in.txt`)).trim(),
      "5",
    );
    await assert.rejects(Deno.stat(`${data.dir}/ripple/accounts/alice`), Deno.errors.NotFound);
    const list = await ripple(["account", "list", "--datadir", data.dir, "--json"]);
    assert.deepEqual(JSON.parse(list.stdout), { accounts: [] });
  });
});

Deno.test("peer remove and rekey change one peer and nothing else", async () => {
  await using data = await tempDatadir();
  await aliceWithBob(data.dir);
  succeeded(
    await ripple(["peer", "add", "alice", "carol@127.0.0.4", "--generate", "--datadir", data.dir]),
    "peer add carol",
  );
  const oldKey = await Deno.readTextFile(peerFile(data.dir, "secretkey.txt"));
  const rekeyed = await rekeyBob(data.dir);
  const newKey = succeeded(rekeyed, "peer rekey");
  assert.match(newKey, /^[0-9a-f]{64}\n$/);
  assert.notEqual(newKey, oldKey);
  assert.equal(await Deno.readTextFile(peerFile(data.dir, "secretkey.txt")), newKey);
  assert.equal((await Deno.stat(peerFile(data.dir, "secretkey.txt"))).mode! & 0o777, 0o600);

  const given = "cd".repeat(32);
  succeeded(
    await ripple(["peer", "rekey", "alice", BOB, "--key", given, "--datadir", data.dir]),
    "peer rekey --key",
  );
  assert.equal((await Deno.readTextFile(peerFile(data.dir, "secretkey.txt"))).trim(), given);

  const removed = await ripple(["peer", "remove", "alice", BOB, "--datadir", data.dir]);
  assert.match(succeeded(removed, "peer remove"), /bob@127\.0\.0\.3 is no longer a peer of alice/);
  const peers = JSON.parse(
    (await ripple(["peer", "list", "alice", "--datadir", data.dir, "--json"])).stdout,
  );
  assert.deepEqual(peers.peers.map((p: { peer: string }) => p.peer), ["carol@127.0.0.4"]);
  const unknown = await ripple(["peer", "remove", "alice", BOB, "--datadir", data.dir]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /bob@127\.0\.0\.3 is not a peer of alice/);
});

Deno.test("account remove writes a journal a stopped server left into the files before it moves them", async () => {
  await using data = await tempDatadir();
  await aliceWithBob(data.dir);
  // A server that stopped with more changed files than one checkpoint batch (512) left
  // them in its journal.
  const store = await Store.open(new DenoFileSystem(), `${data.dir}/ripple`);
  const tx = new Tx(store);
  for (let i = 0; i < 520; i++) {
    const idHex = i.toString(16).padStart(64, "0");
    tx.set(`accounts/alice/payments/${idHex}.txt`, formatRecord(inFlight(idHex)));
  }
  tx.set(peerPath("alice", { username: "bob", address: "127.0.0.3" }, "balance.txt"), "0\n");
  tx.set(peerPath("alice", { username: "bob", address: "127.0.0.3" }, "trustline_out.txt"), "40\n");
  await store.commit(tx.changes);
  await store.close();
  assert.ok((await Array.fromAsync(Deno.readDir(`${data.dir}/ripple/journal`))).length > 0);

  const removed = await ripple(["account", "remove", "alice", "--force", "--datadir", data.dir]);
  succeeded(removed, "account remove");
  const [moved] = await Array.fromAsync(Deno.readDir(`${data.dir}/ripple/removed`));
  const aside = `${data.dir}/ripple/removed/${moved.name}/accounts/alice/peers/127.0.0.3/bob`;
  assert.equal(
    await Deno.readTextFile(`${aside}/trustline_out.txt`),
    "40\n",
    "the newest value moved",
  );

  // The next start finds nothing to replay into the removed account, and does not bring it back.
  const again = await Store.open(new DenoFileSystem(), `${data.dir}/ripple`);
  assert.equal(again.journaledFiles, 0);
  await again.close();
  await assert.rejects(Deno.stat(`${data.dir}/ripple/accounts/alice`), Deno.errors.NotFound);
});
