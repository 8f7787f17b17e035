/** The `http` setting: the web wallet is off unless asked for, and only ever on a loopback address. */

import assert from "node:assert/strict";
import { buildConfig, ConfigError, parseConfigLines } from "../../src/cli/config.ts";

const fromFile = (text: string) => {
  const { values, where } = parseConfigLines(text, "ripple.conf");
  return buildConfig(values, (name) => where.get(name) ?? "the default");
};

Deno.test("the web wallet is off by default and when set to off", () => {
  assert.equal(fromFile("").http, null);
  assert.equal(fromFile("http = off\n").http, null);
});

Deno.test("the web wallet listens on a loopback HOST:PORT", () => {
  assert.deepEqual(fromFile("http = 127.0.0.1:8080\n").http, { host: "127.0.0.1", port: 8080 });
  assert.deepEqual(fromFile("http = localhost:8080\n").http, { host: "localhost", port: 8080 });
  assert.deepEqual(fromFile("http = 127.0.0.5:9000\n").http, { host: "127.0.0.5", port: 9000 });
});

Deno.test("a wallet address off the loopback or without a port is refused, saying why", () => {
  const cases: [string, RegExp][] = [
    ["http = 0.0.0.0:8080", /ripple\.conf:1: http must be a loopback address .*reverse proxy/],
    ["http = 192.168.1.2:8080", /http must be a loopback address/],
    ["http = wallet.example:443", /http must be a loopback address/],
    ["http = 127.0.0.1", /ripple\.conf:1: http is HOST:PORT, got "127\.0\.0\.1"/],
    ["http = 127.0.0.1:0", /ripple\.conf:1: invalid port/],
    ["http = 127.0.0.1:99999", /invalid port/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => fromFile(text), (error) => {
      assert.ok(error instanceof ConfigError, text);
      assert.match(error.message, message, text);
      return true;
    });
  }
});
