import assert from "node:assert/strict";
import {
  buildConfig,
  ConfigError,
  parseConfigLines,
  parseConfigText,
} from "../../src/cli/config.ts";
import { DEFAULT_LIMITS, peerLimitsFor } from "../../src/core/config.ts";

const fromFile = (text: string) => {
  const { values, where, peers } = parseConfigLines(text, "ripple.conf");
  return buildConfig(values, (name) => where.get(name) ?? "the default", peers);
};

Deno.test("an empty configuration runs on the built-in defaults", () => {
  const config = fromFile("");
  assert.deepEqual(config.listen, { host: "127.0.0.1", port: 2012 });
  assert.equal(config.address, "127.0.0.1");
  assert.deepEqual(config.limits, DEFAULT_LIMITS);
  assert.equal(config.logFormat, "text");
});

Deno.test("settings in the file are read, comments and blank lines skipped", () => {
  const config = fromFile(
    "# mine\n\nlisten = 127.0.0.2:4000\nlock_timeout_ms = 20000\nlog_format = json\n",
  );
  assert.deepEqual(config.listen, { host: "127.0.0.2", port: 4000 });
  assert.equal(config.address, "127.0.0.2:4000");
  assert.equal(config.limits.lockTimeoutMs, 20_000);
  assert.equal(config.logFormat, "json");
});

Deno.test("the public address is written canonically, without the default port", () => {
  assert.equal(
    fromFile("listen = 0.0.0.0:2012\naddress = ripple.example:2012\n").address,
    "ripple.example",
  );
});

Deno.test("each bad configuration is refused with the file, the line and what to do", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["an unknown setting", "lock_timeout = 5", /ripple\.conf:1: unknown setting "lock_timeout"/],
    ["a line without =", "listen 127.0.0.2", /ripple\.conf:1: expected "name = value"/],
    [
      "a setting given twice",
      "max_depth = 3\nmax_depth = 4",
      /ripple\.conf:2: "max_depth" is set twice/,
    ],
    [
      "a number out of range",
      "\nlock_timeout_ms = 5",
      /ripple\.conf:2: lock_timeout_ms must be a whole number from 100/,
    ],
    ["a number that is not one", "max_depth = three", /max_depth must be a whole number/],
    [
      "a search longer than the design allows",
      "search_timeout_ms = 60000",
      /search_timeout_ms .* to 30000/,
    ],
    ["a bad listen address", "listen = 127.0.0.1:99999", /ripple\.conf:1: invalid port/],
    ["an upper-case address", "address = Ripple.Example", /ripple\.conf:1: invalid host/],
    ["all interfaces without a public address", "listen = 0.0.0.0:2012", /set address/],
    ["an unknown log format", "log_format = xml", /log_format is text or json/],
    ["a retry cap below its base", "retry_base_ms = 5000\nretry_max_ms = 1000", /below its/],
    ["a bad section header", "[peers alice bob@b]", /ripple\.conf:1: expected a section/],
    ["a section for a bad account", "[peer Alice bob@b]", /"Alice" is not an account name/],
    ["a section for a bad peer", "[peer alice bob]", /ripple\.conf:1: expected NAME@ADDRESS/],
    ["a section twice", "[peer * bob@b]\n[peer * bob@b]", /ripple\.conf:2: .* appears twice/],
    [
      "a setting that is not per peer",
      "[peer alice bob@b]\nlock_timeout_ms = 100",
      /ripple\.conf:2: "lock_timeout_ms" cannot be set per peer/,
    ],
    ["a share above 100", "[peer alice bob@b]\npeer_lock_share_percent = 101", /from 0 to 100/],
  ];
  for (const [name, text, message] of cases) {
    await t.step(
      name,
      () =>
        assert.throws(
          () => fromFile(text),
          (e) => e instanceof ConfigError && message.test(e.message),
        ),
    );
  }
});

Deno.test("a [peer …] section overrides the per-neighbour limits for that peer", () => {
  const config = fromFile(
    "peer_lock_share_percent = 40\n\n[peer alice bob@b.example:2012]\npeer_lock_share_percent = 90\n" +
      "peer_payments_in_flight = 5\npeer_slow_locks = 0\n[peer * bob@b.example]\npeer_searches = 2\npeer_held_up = 0\npeer_waiting = 9\n",
  );
  const at = (account: string, peer: string) => peerLimitsFor(config.limits, account, peer);
  assert.deepEqual(at("alice", "bob@b.example"), {
    peerLockSharePercent: 90,
    peerPaymentsInFlight: 5,
    peerSearches: 2,
    peerHeldUp: 0,
    peerWaiting: 9,
    peerSlowLocks: 0,
  });
  assert.deepEqual(at("carol", "bob@b.example"), {
    peerLockSharePercent: 40,
    peerPaymentsInFlight: DEFAULT_LIMITS.peerPaymentsInFlight,
    peerSearches: 2,
    peerHeldUp: 0,
    peerWaiting: 9,
    peerSlowLocks: DEFAULT_LIMITS.peerSlowLocks,
  });
  assert.equal(at("alice", "dave@d.example").peerLockSharePercent, 40);
  assert.equal(at("alice", "dave@d.example").peerWaiting, DEFAULT_LIMITS.peerWaiting);
  assert.equal(at("alice", "dave@d.example").peerHeldUp, DEFAULT_LIMITS.peerHeldUp);
});

Deno.test("a flag overrides the file and is named in errors", () => {
  const values = parseConfigText("max_depth = 3\n", "ripple.conf");
  values.set("max_depth", "99");
  assert.throws(
    () => buildConfig(values, (name) => (name === "max_depth" ? "--max-depth" : "ripple.conf")),
    /--max-depth: max_depth must be/,
  );
});

Deno.test("unit and decimals set how clients show amounts; whole numbers by default", () => {
  assert.deepEqual(fromFile("").display, { unit: "", decimals: 0 });
  assert.deepEqual(fromFile("unit = hours\ndecimals = 2\n").display, {
    unit: "hours",
    decimals: 2,
  });
  assert.throws(() => fromFile("decimals = 19\n"), /decimals must be a whole number from 0 to 18/);
  assert.throws(() => fromFile("decimals = -1\n"), /decimals must be a whole number/);
  assert.throws(() => fromFile("unit = two words\n"), /unit is at most 32 printable ASCII/);
  assert.throws(() => fromFile(`unit = ${"h".repeat(33)}\n`), /unit is at most 32/);
});

Deno.test("a comment after a value or a header is skipped, as in the README's examples", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const examples = [...readme.matchAll(/```ini\n([\s\S]*?)```/g)].map((match) => match[1]);
  assert.ok(examples.length >= 2, "README.md has its ini blocks");
  assert.match(examples[0], /= \S+\s+#/, "the first example has a comment after a value");
  assert.match(examples[1], /\]\s+#/, "the second example has a comment after a header");
  const [first, second] = examples.map((text) => parseConfigLines(text, "ripple.conf"));
  const config = buildConfig(first.values, () => "README.md", first.peers);
  assert.equal(config.address, "ripple.example.org");
  assert.equal(config.limits.lockTimeoutMs, 15000);
  assert.deepEqual(config.display, { unit: "hours", decimals: 2 });
  assert.equal(second.peers[0].peer, "bob@b.example");
  assert.equal(second.peers[0].values.get("peer_lock_share_percent"), "90");
  assert.equal(parseConfigText("unit = h#1 # the unit\n", "f").get("unit"), "h#1");
});
