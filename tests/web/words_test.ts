import assert from "node:assert/strict";
import { AuthenticationError, ClientError } from "../../src/client/client.ts";
import { Reason } from "../../src/wire/reasons.ts";
import { Status } from "../../src/wire/response.ts";
import { AmountError } from "../../src/client/amounts.ts";
import { keyLink } from "../../src/web/key_link.ts";
import { parseWalletInfo } from "../../src/web/server_link.ts";
import { errorText, paymentWords, standing } from "../../src/web/words.ts";

Deno.test("the balance says who owes whom, in words, in the server's unit", () => {
  const whole = { unit: "", decimals: 0 };
  const hours = { unit: "hours", decimals: 2 };
  assert.equal(standing(0n, "bob@b", hours), "Even: neither owes the other");
  assert.equal(standing(25n, "bob@b", whole), "bob@b owes you 25");
  assert.equal(standing(-25n, "bob@b", whole), "You owe bob@b 25");
  assert.equal(standing(2550n, "bob@b", hours), "bob@b owes you 25.50 hours");
  assert.equal(standing(-5n, "bob@b", hours), "You owe bob@b 0.05 hours");
  assert.equal(standing(-(1n << 63n), "bob@b", whole), `You owe bob@b ${1n << 63n}`);
});

Deno.test("a payment's state, role and failure reason are words; only a failure has a reason", () => {
  assert.deepEqual(paymentWords({ state: 7, role: 2, reason: Reason.SearchTimeout }), {
    state: "failed",
    role: "seller",
    reason: "the search or the wait for the lock timed out (has the other side started its part?)",
    final: true,
  });
  assert.deepEqual(paymentWords({ state: 3, role: 3, reason: Reason.NoPath }), {
    state: "locking",
    role: "on the way",
    reason: "",
    final: false,
  });
  assert.equal(paymentWords({ state: 6, role: 1, reason: 0 }).final, true);
  assert.equal(paymentWords({ state: 99, role: 9, reason: 0 }).state, "state 99");
});

Deno.test("errors are told to the member as sentences", () => {
  assert.equal(
    errorText(new ClientError(Status.Unauthorized, "")),
    "The server does not know this account with this key.",
  );
  assert.equal(
    errorText(new ClientError(Status.Refused, "the payment id is in use")),
    "The server refused: the payment id is in use.",
  );
  assert.equal(errorText(new ClientError(Status.Malformed, "")), "The server refused: malformed.");
  assert.match(errorText(new AuthenticationError("x")), /not signed with your key/);
  assert.match(errorText(new TypeError("Failed to fetch")), /cannot be reached/);
  assert.equal(
    errorText(new AmountError("an amount is a whole number")),
    "An amount is a whole number.",
  );
});

Deno.test("a key link carries the account and key in the fragment; other fragments are pages", () => {
  assert.deepEqual(keyLink(`#account=alice&key=${"ab".repeat(32)}`), {
    account: "alice",
    key: "ab".repeat(32),
  });
  assert.equal(keyLink("#peers"), null);
  assert.equal(keyLink("#payment/00"), null);
  assert.equal(keyLink("#account=alice"), null);
  assert.equal(keyLink(""), null);
});

Deno.test("server.json is checked before the page trusts it", () => {
  assert.deepEqual(parseWalletInfo({ address: "127.0.0.2:4000", searchTimeoutMs: 30000 }), {
    address: "127.0.0.2:4000",
    searchTimeoutMs: 30000,
  });
  for (
    const bad of [
      null,
      "x",
      {},
      { address: "127.0.0.2:2012", searchTimeoutMs: 1 },
      { address: "../x", searchTimeoutMs: 1 },
      { address: "a", searchTimeoutMs: 0 },
      { address: "a", searchTimeoutMs: "30000" },
    ]
  ) {
    assert.throws(() => parseWalletInfo(bad), /server\.json/, JSON.stringify(bad));
  }
});
