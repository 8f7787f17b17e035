/** Where every file lives under `datadir/ripple`: names are checked before they become paths. */

import assert from "node:assert/strict";
import {
  accountDir,
  accountPath,
  listPeers,
  paymentPath,
  peerDir,
  peerPath,
  pendingPath,
} from "../../src/store/paths.ts";
import { NameError } from "../../src/wire/names.ts";

const bob = { username: "bob", address: "127.0.0.3" };
const badUsernames = [
  "",
  "..",
  "../etc",
  "a/b",
  "Alice",
  ".alice",
  "a..b",
  "al\x00",
  "a".repeat(33),
];

Deno.test("account and peer files sit where the layout says", () => {
  assert.equal(accountDir("alice"), "accounts/alice");
  assert.equal(accountPath("alice", "counter.txt"), "accounts/alice/counter.txt");
  assert.equal(peerDir("alice", bob), "accounts/alice/peers/127.0.0.3/bob");
  assert.equal(
    peerPath("alice", { username: "carol", address: "ripple.example:4000" }, "balance.txt"),
    "accounts/alice/peers/ripple.example:4000/carol/balance.txt",
  );
  assert.equal(pendingPath("alice"), "pending/alice");
  const id = "ab".repeat(32);
  assert.equal(paymentPath("alice", id), `accounts/alice/payments/${id}.txt`);
  assert.equal(paymentPath("alice", id, true), `accounts/alice/history/${id}.txt`);
});

Deno.test("a bad username never becomes a path", () => {
  for (const name of badUsernames) {
    assert.throws(() => accountDir(name), NameError, JSON.stringify(name));
    assert.throws(() => accountPath(name, "secretkey.txt"), NameError);
    assert.throws(() => pendingPath(name), NameError);
    assert.throws(() => peerDir(name, bob), NameError);
    assert.throws(() => peerDir("alice", { username: name, address: "127.0.0.3" }), NameError);
  }
});

Deno.test("a bad or non-canonical peer address never becomes a path", () => {
  for (const address of ["127.0.0.3:2012", "..", "a/b", "../x", "Host", "", "a..b", "1.2.3.256"]) {
    assert.throws(
      () => peerPath("alice", { username: "bob", address }, "balance.txt"),
      NameError,
      address,
    );
  }
});

Deno.test("a payment id must be 64 lower-case hex characters", () => {
  for (
    const id of ["", "ab".repeat(31), "ab".repeat(33), "AB".repeat(32), "../" + "a".repeat(61)]
  ) {
    assert.throws(() => paymentPath("alice", id), NameError, id);
  }
});

Deno.test("listing peers skips entries with names the server never creates", async () => {
  const tree: Record<string, string[]> = {
    "accounts/alice/peers": ["127.0.0.3", "host:2012", "Bad", "ripple.example:4000"],
    "accounts/alice/peers/127.0.0.3": ["bob", "Eve", ".hidden"],
    "accounts/alice/peers/ripple.example:4000": ["carol"],
    "accounts/alice/peers/host:2012": ["mallory"],
  };
  const peers = await listPeers({ list: (dir) => Promise.resolve(tree[dir] ?? []) }, "alice");
  assert.deepEqual(peers, [
    { username: "bob", address: "127.0.0.3" },
    { username: "carol", address: "ripple.example:4000" },
  ]);
});
