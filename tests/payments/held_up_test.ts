import assert from "node:assert/strict";
import { HeldUp } from "../../src/payments/held_up.ts";

const d = { username: "d", address: "d.example" };
const e = { username: "e", address: "e.example" };
const f = { username: "f", address: "d.example" }; // on d's server
const CLOCKS = { heldUpAfterMs: 2_000, waitingAfterMs: 30_000, slowLockAfterMs: 3_000 };

Deno.test("a neighbour holds a payment up silently after held_up_after_ms without a word", () => {
  const heldUp = new HeldUp({ ...CLOCKS, heldUpAfterMs: 2_000, waitingAfterMs: 30_000 });
  heldUp.asked("c", d, "p1", 1_000);
  heldUp.asked("c", d, "p1", 1_500); // a resend: the clock runs from the first
  assert.deepEqual(heldUp.count("c", d, 2_999), { silent: 0, waiting: 0, slow: 0 });
  assert.deepEqual(heldUp.count("c", d, 3_000), { silent: 1, waiting: 0, slow: 0 });
  assert.deepEqual(heldUp.count("c", e, 3_000), { silent: 0, waiting: 0, slow: 0 }, "per server");
  // Silence is the server's: every account here counts it, towards every account there.
  assert.deepEqual(heldUp.count("x", d, 3_000), { silent: 1, waiting: 0, slow: 0 });
  assert.deepEqual(heldUp.count("x", f, 3_000), { silent: 1, waiting: 0, slow: 0 });
  heldUp.heard("c", d, "p1", "waiting");
  assert.deepEqual(heldUp.count("x", f, 3_000), { silent: 0, waiting: 0, slow: 0 });
});

Deno.test("waiting is judged per pair: a server's other accounts do not count it", () => {
  const heldUp = new HeldUp({ ...CLOCKS, heldUpAfterMs: 2_000, waitingAfterMs: 10_000 });
  heldUp.asked("c", d, "p1", 0);
  heldUp.asked("x", d, "p2", 0);
  heldUp.heard("c", d, "p1", "waiting");
  heldUp.heard("x", d, "p2", "waiting");
  assert.deepEqual(heldUp.count("c", d, 10_000), { silent: 0, waiting: 1, slow: 0 });
  assert.deepEqual(heldUp.count("c", f, 10_000), { silent: 0, waiting: 0, slow: 0 });
  // The same payment id with two neighbours on one server: each answer stops its own clock.
  heldUp.asked("c", d, "p3", 10_000);
  heldUp.asked("c", f, "p3", 10_000);
  heldUp.heard("c", d, "p3", "waiting");
  assert.deepEqual(heldUp.count("c", e, 12_000).silent, 0);
  assert.deepEqual(heldUp.count("c", d, 12_000).silent, 1);
});

Deno.test("waiting stops only the silence clock; a decisive word or the end stops both", () => {
  const heldUp = new HeldUp({ ...CLOCKS, heldUpAfterMs: 2_000, waitingAfterMs: 30_000 });
  heldUp.asked("c", d, "p1", 0);
  heldUp.asked("c", d, "p2", 0);
  heldUp.heard("c", d, "p1", "waiting");
  heldUp.heard("c", d, "p2", "waiting");
  assert.deepEqual(heldUp.count("c", d, 29_999), { silent: 0, waiting: 0, slow: 0 });
  // The next query after a waiting starts the silence clock again, not the waiting one.
  heldUp.asked("c", d, "p1", 29_500);
  assert.deepEqual(heldUp.count("c", d, 31_000), { silent: 0, waiting: 2, slow: 0 });
  assert.deepEqual(heldUp.count("c", d, 31_500), { silent: 1, waiting: 2, slow: 0 });
  heldUp.heard("c", d, "p1");
  assert.deepEqual(heldUp.count("c", d, 40_000), { silent: 0, waiting: 1, slow: 0 });
  heldUp.heard("c", d, "p2");
  assert.deepEqual(heldUp.count("c", d, 40_000), { silent: 0, waiting: 0, slow: 0 });
  heldUp.heard("c", null, "p3"); // a record without a downstream: nothing to stop
});

Deno.test("a lock left without locked or abort for slow_lock_after_ms counts, per pair; locked, a decisive word or the end stops it", () => {
  const heldUp = new HeldUp(CLOCKS);
  heldUp.lockSent("c", d, "p1", 1_000);
  heldUp.lockSent("c", d, "p1", 2_500); // a resend: the clock runs from the first
  heldUp.lockSent("c", d, "p2", 1_000);
  assert.equal(heldUp.count("c", d, 3_999).slow, 0);
  assert.equal(heldUp.count("c", d, 4_000).slow, 2);
  assert.equal(heldUp.count("x", f, 4_000).slow, 0, "per pair, not per server");
  assert.equal(heldUp.count("c", d, 4_000).silent, 0, "a lock is no commit: no silence");
  heldUp.heard("c", d, "p1", "waiting"); // no answer to a lock
  assert.equal(heldUp.count("c", d, 4_000).slow, 2);
  heldUp.lockAnswered("c", d, "p1");
  assert.equal(heldUp.count("c", d, 4_000).slow, 1);
  heldUp.heard("c", d, "p2"); // an abort, or the payment's end
  assert.equal(heldUp.count("c", d, 4_000).slow, 0);
});
