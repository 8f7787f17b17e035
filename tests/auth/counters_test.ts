/** Datagram counters: replays are what is not above the last accepted, and outgoing counters are reserved in blocks. */

import assert from "node:assert/strict";
import {
  COUNTER_RESERVATION,
  isReplay,
  MAX_COUNTER,
  type OutgoingCounter,
  takeCounter,
} from "../../src/auth/counters.ts";

Deno.test("a counter not greater than the last accepted one is a replay", () => {
  assert.equal(isReplay(5, 5), true);
  assert.equal(isReplay(4, 5), true);
  assert.equal(isReplay(0, 0), true);
  assert.equal(isReplay(6, 5), false);
  assert.equal(isReplay(1, 0), false);
  assert.equal(isReplay(MAX_COUNTER, MAX_COUNTER - 1), false);
  assert.equal(isReplay(MAX_COUNTER, MAX_COUNTER), true);
});

/** Takes `n` counters, checking that every one is covered by the ceiling a datagram may rely on. */
function takeMany(state: OutgoingCounter, n: number): { counter: number; reserve?: number }[] {
  const taken = [];
  let durableCeiling = state.ceiling;
  for (let i = 0; i < n; i++) {
    const result = takeCounter(state);
    if (result.reserve !== undefined) durableCeiling = result.reserve;
    assert.ok(result.counter <= durableCeiling, `counter ${result.counter} is above the ceiling`);
    assert.ok(durableCeiling <= MAX_COUNTER);
    taken.push(result);
  }
  return taken;
}

Deno.test("a new reservation is asked for exactly when the last one is used up", () => {
  const state = { next: 1, ceiling: 0 };
  const taken = takeMany(state, 3 * COUNTER_RESERVATION + 5);
  assert.deepEqual(taken.map((t) => t.counter), taken.map((_, i) => i + 1));
  const reserves = taken.filter((t) => t.reserve !== undefined);
  assert.deepEqual(reserves, [
    { counter: 1, reserve: COUNTER_RESERVATION },
    { counter: COUNTER_RESERVATION + 1, reserve: 2 * COUNTER_RESERVATION },
    { counter: 2 * COUNTER_RESERVATION + 1, reserve: 3 * COUNTER_RESERVATION },
    { counter: 3 * COUNTER_RESERVATION + 1, reserve: 4 * COUNTER_RESERVATION },
  ]);
  assert.equal(state.ceiling, 4 * COUNTER_RESERVATION);
});

Deno.test("after a crash the sender starts above the stored ceiling and reserves at once", () => {
  const stored = 5 * COUNTER_RESERVATION;
  const state = { next: stored + 1, ceiling: stored };
  assert.deepEqual(takeCounter(state), {
    counter: stored + 1,
    reserve: stored + COUNTER_RESERVATION,
  });
  assert.deepEqual(takeCounter(state), { counter: stored + 2 });
});

Deno.test("the reservation never goes past 0xffffffff, and the counter is exhausted there", () => {
  const state = { next: MAX_COUNTER - 10, ceiling: MAX_COUNTER - 11 };
  const taken = takeMany(state, 11);
  assert.deepEqual(taken[0], { counter: MAX_COUNTER - 10, reserve: MAX_COUNTER });
  assert.ok(taken.slice(1).every((t) => t.reserve === undefined));
  assert.equal(taken.at(-1)!.counter, MAX_COUNTER);
  assert.throws(() => takeCounter(state), RangeError);
  assert.throws(() => takeCounter({ next: MAX_COUNTER + 1, ceiling: MAX_COUNTER }), RangeError);
});

Deno.test("a reservation that starts just below the limit is cut at the limit", () => {
  const state = { next: MAX_COUNTER - 1, ceiling: 0 };
  assert.deepEqual(takeCounter(state), { counter: MAX_COUNTER - 1, reserve: MAX_COUNTER });
  assert.deepEqual(takeCounter(state), { counter: MAX_COUNTER });
  assert.throws(() => takeCounter(state), RangeError);
});
