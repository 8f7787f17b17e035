import assert from "node:assert/strict";
import { DEFAULT_LIMITS } from "../../src/core/config.ts";
import { HeldUpWatch } from "../../src/sim/held_up_watch.ts";
import { ServerCommand } from "../../src/wire/commands.ts";
import { ARGUMENTS_SIZE, type DatagramFields } from "../../src/wire/datagram.ts";

const HONEST = "127.0.0.2";
const STALLER = "127.0.0.3";

/** A server datagram from `sender` (at the sending server) to `to` about payment `id`. */
function datagram(command: number, to: string, sender: string, id: number): DatagramFields {
  const args = new Uint8Array(ARGUMENTS_SIZE);
  args[0] = id;
  return {
    command,
    username: to,
    peerUsername: sender,
    peerAddress: "",
    arguments: args,
    counter: 1,
  };
}

function watch() {
  const violations: string[] = [];
  const life = {};
  const held = new HeldUpWatch({
    limits: DEFAULT_LIMITS,
    honest: (address) => address === HONEST,
    life: () => life,
    violate: (invariant, detail) => violations.push(`${invariant}: ${detail}`),
  });
  /** a2 takes a transit lock for payment `id` from upstream and passes it to `to` at `at`. */
  const passOn = (to: string, id: number, at: number) => {
    held.delivered("127.0.0.4", HONEST, datagram(ServerCommand.Lock, "a2", "u", id));
    held.sent(HONEST, STALLER, datagram(ServerCommand.Lock, to, "a2", id), at);
  };
  return { held, violations, passOn };
}

Deno.test("the watch judges silence per pair of servers, as the accounts do", () => {
  const { held, violations, passOn } = watch();
  // a1 commits payment 1 to h1; the staller's server says nothing.
  held.sent(HONEST, STALLER, datagram(ServerCommand.Commit, "h1", "a1", 1), 0);
  passOn("h2", 2, 1_000); // within held_up_after_ms and the slack: allowed
  assert.deepEqual(violations, []);
  // Later, another account of the honest server passes a lock to another account there.
  passOn("h2", 3, 10_000);
  assert.equal(violations.length, 1);
  assert.match(violations[0], /held-up-limit: a2@127\.0\.0\.2 passed payment 03.* h2@127\.0\.0\.3/);
});

Deno.test("a waiting answer clears silence for the server, but keeps waiting per pair", () => {
  const { held, violations, passOn } = watch();
  held.sent(HONEST, STALLER, datagram(ServerCommand.Commit, "h1", "a1", 1), 0);
  held.sent(HONEST, STALLER, datagram(ServerCommand.Commit, "h1", "a1", 2), 0);
  for (const id of [1, 2]) {
    held.delivered(STALLER, HONEST, datagram(ServerCommand.Waiting, "a1", "h1", id));
  }
  // h1 keeps two of a1's payments waiting past waiting_after_ms: that closes a1's edge only.
  passOn("h1", 3, 60_000);
  assert.deepEqual(violations, [], "a2's edge to h1 is not judged by a1's waiting payments");
});

Deno.test("the watch flags a lock passed on towards a neighbour that left peer_slow_locks locks unanswered, and not once one is locked", () => {
  const { held, violations, passOn } = watch();
  passOn("h1", 1, 0);
  passOn("h1", 2, 0);
  held.sent(HONEST, STALLER, datagram(ServerCommand.Lock, "h1", "a2", 2), 2_000); // a resend
  passOn("h1", 3, 3_999); // within slow_lock_after_ms and the slack: allowed
  assert.deepEqual(violations, []);
  passOn("h1", 4, 4_000);
  assert.equal(violations.length, 1);
  assert.match(violations[0], /a2@127\.0\.0\.2 passed payment 04.* left 2 locks unanswered/);
  // h1 answers the first lock: one unanswered lock (or three younger) is within the limit.
  held.delivered(STALLER, HONEST, datagram(ServerCommand.Locked, "a2", "h1", 1));
  held.delivered(STALLER, HONEST, datagram(ServerCommand.Abort, "a2", "h1", 3));
  passOn("h1", 5, 4_500);
  assert.equal(violations.length, 1);
});
