import assert from "node:assert/strict";
import { Logger } from "../../src/core/log.ts";
import { ThrottledLog } from "../../src/core/throttled_log.ts";
import { FakeClock } from "../_fake_clock.ts";

function fixture() {
  const clock = new FakeClock();
  const lines: string[] = [];
  const logger = new Logger({ sink: (line) => lines.push(line), now: () => clock.now() });
  return { clock, lines, log: new ThrottledLog({ logger, clock, intervalMs: 1_000 }) };
}

Deno.test("a flood of one event costs a line per key and interval, and every event is counted", async (t) => {
  const { clock, lines, log } = fixture();

  await t.step("the first event of a key is written at once", () => {
    log.warn("connection-refused", "a", { source: "a", n: 1 });
    log.warn("connection-refused", "b", { source: "b", n: 1 });
    log.warn("connection-evicted", "a", { source: "a", n: 1 });
    assert.equal(lines.length, 3);
    assert.match(lines[0], /warn connection-refused source=a n=1 count=1$/);
  });
  await t.step("the next ones are counted and summed up when the interval ends", () => {
    for (let n = 2; n <= 50; n++) log.warn("connection-refused", "a", { source: "a", n });
    clock.advance(999);
    assert.equal(lines.length, 3);
    clock.advance(1);
    assert.equal(lines.length, 4, "only the key that had more events gets a line");
    assert.match(lines[3], /connection-refused source=a n=50 count=49$/, "the latest fields");
  });
  await t.step(
    "a key quiet for a whole interval is forgotten: its next event is written at once",
    () => {
      clock.advance(1_000);
      assert.equal(clock.pending, 0, "no timer runs while nothing is counted");
      log.warn("connection-refused", "a", { source: "a", n: 51 });
      assert.equal(lines.length, 5);
      assert.match(lines[4], /n=51 count=1$/);
    },
  );
  await t.step("disposing writes what is counted; after it every event is written", () => {
    log.warn("connection-refused", "a", { source: "a", n: 52 });
    log[Symbol.dispose]();
    assert.match(lines[5], /n=52 count=1$/);
    assert.equal(clock.pending, 0);
    log.warn("connection-refused", "a", { source: "a", n: 53 });
    log.warn("connection-refused", "a", { source: "a", n: 54 });
    assert.equal(lines.length, 8);
  });
});
