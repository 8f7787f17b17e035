import assert from "node:assert/strict";
import { DEFAULT_LIMITS } from "../../src/core/config.ts";
import { releaseDue } from "../../src/payments/deadlines.ts";
import type { PaymentRecord } from "../../src/payments/record.ts";

/** The fields releaseDue reads: a payment of 40 with its deadline at 0, released over 1 s. */
const record = { amount: 40n, deadline: 0, releaseMs: 1_000 } as PaymentRecord;

Deno.test("nothing is released before the deadline and the whole amount from the deadline plus the release period on, whatever the chunk", () => {
  for (const releaseChunkMs of [100, 300, 700]) {
    const limits = { ...DEFAULT_LIMITS, releaseChunkMs };
    assert.equal(releaseDue(record, -1, limits), 0n);
    assert.equal(
      releaseDue(record, 1_000, limits),
      40n,
      `with chunks of ${releaseChunkMs} ms, all of it at T + P (docs/protocol.md §9)`,
    );
  }
});

Deno.test("the release grows with time and never passes the amount, for an amount of 1 and one that does not divide evenly", () => {
  for (const amount of [1n, 7n, 40n]) {
    let last = 0n;
    for (let now = 0; now <= 1_200; now += 50) {
      const due = releaseDue({ ...record, amount }, now, {
        ...DEFAULT_LIMITS,
        releaseChunkMs: 100,
      });
      assert.ok(due >= last && due <= amount, `${amount} at ${now}: ${due} after ${last}`);
      last = due;
    }
    assert.equal(last, amount);
  }
});
