/** Deadlines: many of one length kept by one timer, expiring oldest first. */

import assert from "node:assert/strict";
import { Deadlines } from "../../src/core/deadline.ts";

Deno.test("deadlines expire in the order they started, and a disposed one never does", async () => {
  using deadlines = new Deadlines(30);
  const first = deadlines.start();
  const cancelled = deadlines.start();
  cancelled[Symbol.dispose]();
  await new Promise((resolve) => setTimeout(resolve, 15));
  using second = deadlines.start();
  await new Promise((resolve) => first.signal.addEventListener("abort", resolve));
  assert.ok(first.signal.reason instanceof Deno.errors.TimedOut);
  assert.equal(cancelled.signal.aborted, false);
  assert.equal(second.signal.aborted, false, "started later, it has time left");
  await new Promise((resolve) => second.signal.addEventListener("abort", resolve));
  assert.ok(second.signal.aborted);
});

Deno.test("a deadline aborts with the reason of a signal linked to it", () => {
  using deadlines = new Deadlines(60_000);
  const slot = new AbortController();
  using entry = deadlines.start(slot.signal);
  const evicted = new Error("evicted");
  slot.abort(evicted);
  assert.equal(entry.signal.reason, evicted);
  using late = deadlines.start(slot.signal);
  assert.equal(late.signal.reason, evicted, "already aborted when linked");
});

Deno.test("disposing the set leaves no timer behind", () => {
  const deadlines = new Deadlines(60_000);
  using entry = deadlines.start();
  deadlines[Symbol.dispose]();
  assert.equal(entry.signal.aborted, false);
});
