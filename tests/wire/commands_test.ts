/** Command numbers and their names in logs. */

import assert from "node:assert/strict";
import { ClientCommand, commandName, ServerCommand } from "../../src/wire/commands.ts";

Deno.test("client commands are numbered as in the seed and stay below 128", () => {
  assert.equal(ClientCommand.SetTrustline, 0);
  assert.equal(ClientCommand.GetBalance, 8);
  assert.ok(Object.values(ClientCommand).every((n) => n < 128));
  assert.ok(Object.values(ServerCommand).every((n) => n >= 128 && n <= 255));
});

Deno.test("a command's log name is kebab case, server commands prefixed", () => {
  assert.equal(commandName(0), "set-trustline");
  assert.equal(commandName(5), "new-payment-out");
  assert.equal(commandName(128), "server-set-trustline");
  assert.equal(commandName(141), "server-abort");
  assert.equal(commandName(99), "command-99");
});
