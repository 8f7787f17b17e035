/** Usernames and server addresses: the only strings that ever become paths on disk. */

import assert from "node:assert/strict";
import {
  canonicalAddress,
  DEFAULT_PORT,
  formatAccountRef,
  formatServerAddress,
  isCanonicalAddress,
  isUsername,
  NameError,
  parseAccountRef,
  parseServerAddress,
  printable,
} from "../../src/wire/names.ts";

Deno.test("a username is 1 to 32 of a-z 0-9 _ - . not starting with '.'", async (t) => {
  await t.step("accepted", () => {
    for (
      const name of ["alice", "a", "0", "_x", "-x", "a.b", "a_b-c.d9", "x.", "a".repeat(32)]
    ) {
      assert.equal(isUsername(name), true, name);
    }
  });
  await t.step("refused", () => {
    for (
      const name of [
        "",
        "a".repeat(33),
        ".alice",
        ".",
        "..",
        "a..b",
        "a/b",
        "/",
        "Alice",
        "alicE",
        "al ice",
        "al\x00",
        "al\x01ce",
        "al\nice",
        "al\x7f",
        "a@b",
        "a:b",
        "a\\b",
        "é",
      ]
    ) {
      assert.equal(isUsername(name), false, JSON.stringify(name));
    }
  });
});

Deno.test("a server address is a DNS name or IPv4 address with an optional port", async (t) => {
  await t.step("the port defaults to 2012", () => {
    assert.equal(DEFAULT_PORT, 2012);
    assert.deepEqual(parseServerAddress("127.0.0.2"), { host: "127.0.0.2", port: 2012 });
    assert.deepEqual(parseServerAddress("localhost"), { host: "localhost", port: 2012 });
  });
  await t.step("an explicit port is kept", () => {
    assert.deepEqual(parseServerAddress("ripple.example:4000"), {
      host: "ripple.example",
      port: 4000,
    });
    assert.deepEqual(parseServerAddress("a-b.c0:1"), { host: "a-b.c0", port: 1 });
    assert.deepEqual(parseServerAddress("h:65535"), { host: "h", port: 65535 });
  });
  await t.step("at most 32 bytes in all", () => {
    const host32 = "a".repeat(30) + ".b";
    assert.equal(parseServerAddress(host32).host, host32);
    assert.throws(() => parseServerAddress(host32 + "c"), NameError);
    assert.throws(() => parseServerAddress("a".repeat(28) + ".b:99"), NameError); // 33
    assert.throws(() => parseServerAddress(""), NameError);
  });
  await t.step("bad hosts are refused", () => {
    for (
      const address of [
        "Host",
        "a..b",
        ".a",
        "a.",
        "-a.b",
        "a-.b",
        "a/b",
        "a_b",
        "a b",
        "a\x00b",
        "a\x01",
        "é.example",
        ":2012",
        "..",
      ]
    ) {
      assert.throws(() => parseServerAddress(address), NameError, JSON.stringify(address));
    }
  });
  await t.step("bad ports are refused", () => {
    for (
      const address of [
        "host:",
        "host:0",
        "host:65536",
        "host:99999999999",
        "host:02012",
        "host:+1",
        "host:-1",
        "host:1e3",
        "host:0x10",
        "host: 1",
        "host:1:2",
        "host:a",
      ]
    ) {
      assert.throws(() => parseServerAddress(address), NameError, address);
    }
  });
});

Deno.test("an all-numeric host must be an IPv4 address with four octets of 0 to 255", async (t) => {
  await t.step("accepted", () => {
    for (const host of ["0.0.0.0", "255.255.255.255", "10.0.0.1", "127.0.0.1"]) {
      assert.equal(parseServerAddress(host).host, host);
    }
  });
  await t.step("refused", () => {
    for (
      const host of [
        "256.0.0.1",
        "1.2.3.256",
        "1.2.3.999",
        "1.2.3",
        "1.2.3.4.5",
        "01.2.3.4",
        "1.2.3.04",
        "1",
        "12345",
        "1..2.3",
      ]
    ) {
      assert.throws(() => parseServerAddress(host), NameError, host);
    }
  });
});

Deno.test("the canonical address leaves out the default port", () => {
  assert.equal(canonicalAddress("host:2012"), "host");
  assert.equal(canonicalAddress("127.0.0.2:2012"), "127.0.0.2");
  assert.equal(canonicalAddress("host"), "host");
  assert.equal(canonicalAddress("host:4000"), "host:4000");
  assert.throws(() => canonicalAddress("Host:2012"), NameError);
  assert.equal(formatServerAddress({ host: "h", port: 2012 }), "h");
  assert.equal(formatServerAddress({ host: "h", port: 2013 }), "h:2013");
  assert.equal(isCanonicalAddress("host"), true);
  assert.equal(isCanonicalAddress("host:4000"), true);
  assert.equal(isCanonicalAddress("host:2012"), false);
  assert.equal(isCanonicalAddress(""), false);
  assert.equal(isCanonicalAddress("a/b"), false);
});

Deno.test("an account reference is name@address with the address made canonical", () => {
  assert.deepEqual(parseAccountRef("bob@127.0.0.3"), { username: "bob", address: "127.0.0.3" });
  assert.deepEqual(parseAccountRef("bob@host:2012"), { username: "bob", address: "host" });
  assert.deepEqual(parseAccountRef("b.o-b_@host:9"), { username: "b.o-b_", address: "host:9" });
  for (
    const text of [
      "bob",
      "@host",
      "bob@",
      "Bob@host",
      "bob@Host",
      "a@b@host",
      "../x@host",
      "bob@a/b",
    ]
  ) {
    assert.throws(() => parseAccountRef(text), NameError, text);
  }
  const ref = parseAccountRef("carol@ripple.example:4000");
  assert.equal(formatAccountRef(ref), "carol@ripple.example:4000");
});

Deno.test("untrusted text is made printable and short before it reaches a log", () => {
  assert.equal(printable("a\x00b\nc\x7fé"), "a?b?c??");
  assert.equal(printable("x".repeat(100)).length, 64);
});
