/** The connection slots table: caps per source and in all, longest-idle eviction, refusals, logs. */

import assert from "node:assert/strict";
import { Logger } from "../../src/core/log.ts";
import {
  ConnectionSlots,
  type ConnectionSlotsOptions,
  EvictedError,
  type Slot,
  sourceOf,
} from "../../src/server/connection_slots.ts";
import { Random } from "../../src/sim/random.ts";
import { FakeClock } from "../_fake_clock.ts";

/** A table on a fake clock whose log lines land in `lines`. */
function table(limits: Pick<ConnectionSlotsOptions, "maxConnections" | "maxPerSource">) {
  const clock = new FakeClock(1_000);
  const lines: string[] = [];
  const logger = new Logger({ sink: (line) => lines.push(line), now: () => clock.now() });
  const slots = new ConnectionSlots({ ...limits, logger, listener: "test", clock });
  return { slots, clock, lines };
}

const A = { hostname: "192.0.2.1" };
const B = { hostname: "192.0.2.2" };
const C = { hostname: "192.0.2.3" };

function reasonOf(slot: Slot): string | undefined {
  if (!slot.signal.aborted) return undefined;
  assert.ok(slot.signal.reason instanceof EvictedError);
  return slot.signal.reason.reason;
}

Deno.test("connections are admitted and counted per source up to the caps", () => {
  using fixture = disposable(table({ maxConnections: 10, maxPerSource: 3 }));
  const { slots } = fixture;
  const held = [slots.admit(A)!, slots.admit(A)!, slots.admit(B)!];
  assert.equal(slots.size, 3);
  assert.equal(slots.countOf(A.hostname), 2);
  assert.equal(slots.countOf(B.hostname), 1);
  assert.equal(slots.countOf(C.hostname), 0);
  assert.ok(held.every((slot) => !slot.signal.aborted));
  held[0][Symbol.dispose]();
  held[0][Symbol.dispose]();
  assert.equal(slots.size, 2, "disposing twice gives the slot back once");
  assert.equal(slots.countOf(A.hostname), 1);
});

Deno.test("a full source makes room among its own connections, longest idle first", async (t) => {
  using fixture = disposable(table({ maxConnections: 10, maxPerSource: 3 }));
  const { slots, clock, lines } = fixture;
  const fromA: Slot[] = [];
  for (let i = 0; i < 3; i++) {
    fromA.push(slots.admit(A)!);
    clock.advance(10);
  }
  const fromB = slots.admit(B)!;

  await t.step("the oldest silent connection of the source goes, no other source's", () => {
    const fourth = slots.admit(A)!;
    assert.equal(reasonOf(fromA[0]), "source-full");
    assert.ok(!fromB.signal.aborted);
    assert.ok(!fourth.signal.aborted);
    assert.equal(slots.countOf(A.hostname), 3);
    assert.equal(slots.size, 4);
    assert.match(lines.at(-1)!, /warn connection-evicted listener=test source=192\.0\.2\.1/);
    assert.match(lines.at(-1)!, /reason=source-full idleMs=30 count=1/);
    fromA.push(fourth);
  });

  await t.step("bytes received put a connection at the back of the line", () => {
    clock.advance(10);
    fromA[1].progressed();
    slots.admit(A);
    assert.equal(reasonOf(fromA[1]), undefined, "it delivered bytes just now");
    assert.equal(reasonOf(fromA[2]), "source-full", "idle longest after that");
  });
});

Deno.test("a full server makes room by closing the longest-idle waiting connection of anyone", () => {
  using fixture = disposable(table({ maxConnections: 3, maxPerSource: 10 }));
  const { slots, clock, lines } = fixture;
  const first = slots.admit(A)!;
  clock.advance(5);
  const second = slots.admit(B)!;
  clock.advance(5);
  const third = slots.admit(B)!;
  clock.advance(5);
  // The first delivered a byte long ago, the second none: the first has been idle longer.
  first.progressed();
  clock.advance(1);
  second.progressed();
  const fourth = slots.admit(C)!;
  assert.equal(reasonOf(third), "server-full");
  assert.deepEqual([first, second, fourth].map(reasonOf), [undefined, undefined, undefined]);
  assert.equal(slots.size, 3);
  assert.match(
    lines.at(-1)!,
    /connection-evicted listener=test source=192\.0\.2\.2 reason=server-full/,
  );
});

Deno.test("a serving connection is never evicted: with none waiting, the new one is refused", () => {
  using fixture = disposable(table({ maxConnections: 2, maxPerSource: 1 }));
  const { slots, lines } = fixture;
  const a = slots.admit(A)!;
  a.serving();
  assert.equal(slots.admit(A), null, "its source is full and nothing of it waits");
  assert.match(
    lines.at(-1)!,
    /warn connection-refused listener=test source=192\.0\.2\.1 reason=source-full inHand=1/,
  );
  const b = slots.admit(B)!;
  b.serving();
  assert.equal(slots.admit(C), null, "the server is full and nothing waits");
  assert.match(
    lines.at(-1)!,
    /connection-refused .*source=192\.0\.2\.3 reason=server-full inHand=2/,
  );
  assert.ok(!a.signal.aborted && !b.signal.aborted);

  // Served and waiting for another request (keep-alive): evictable again.
  a.waiting();
  const next = slots.admit(A)!;
  assert.equal(reasonOf(a), "source-full");
  assert.ok(!next.signal.aborted);
});

Deno.test("shutdown closes every waiting connection and leaves the serving ones", () => {
  using fixture = disposable(table({ maxConnections: 10, maxPerSource: 10 }));
  const { slots, lines } = fixture;
  const waiting = [slots.admit(A)!, slots.admit(B)!];
  waiting[1].progressed();
  const serving = slots.admit(C)!;
  serving.serving();
  const logged = lines.length;
  assert.equal(slots.closeWaiting(), 2);
  assert.deepEqual(waiting.map(reasonOf), ["shutdown", "shutdown"]);
  assert.ok(!serving.signal.aborted);
  assert.equal(slots.size, 1);
  assert.equal(lines.length, logged, "the listener logs one line for all of them");
  waiting[0][Symbol.dispose]();
  assert.equal(slots.size, 1, "disposing an evicted slot changes nothing");
});

Deno.test("out of file descriptors, the longest-idle waiting connection is closed", () => {
  using fixture = disposable(table({ maxConnections: 10, maxPerSource: 10 }));
  const { slots, clock } = fixture;
  const old = slots.admit(A)!;
  clock.advance(1);
  const young = slots.admit(B)!;
  assert.ok(slots.outOfFiles());
  assert.equal(reasonOf(old), "out-of-files");
  young.serving();
  assert.ok(!slots.outOfFiles(), "nothing waits");
});

Deno.test("a flood of evictions is logged once per source and second, with counts", () => {
  const { slots, clock, lines } = table({ maxConnections: 1_000, maxPerSource: 1 });
  for (let i = 0; i < 100; i++) slots.admit(A);
  slots.admit(B);
  slots.admit(B);
  assert.equal(lines.length, 2, "the first eviction of each source at once");
  assert.match(lines[0], /source=192\.0\.2\.1 .*count=1$/);
  assert.match(lines[1], /source=192\.0\.2\.2 .*count=1$/);
  clock.advance(1_000);
  assert.equal(lines.length, 3, "then a summary for the source still flooding");
  assert.match(lines[2], /source=192\.0\.2\.1 .*count=98$/);
  slots.admit(A);
  clock.advance(1_000);
  slots[Symbol.dispose]();
  assert.match(
    lines.at(-1)!,
    /source=192\.0\.2\.1 .*count=1$/,
    "counted events are written on dispose",
  );
  assert.equal(clock.pending, 0, "no timer is left behind");
  const evicted = lines.reduce((sum, line) => sum + Number(/count=(\d+)/.exec(line)![1]), 0);
  assert.equal(evicted, 101, "every eviction is in some line's count");
});

Deno.test("the caps hold and the idlest waiting connection is the one evicted, whatever the order", () => {
  const random = new Random(11);
  const limits = { maxConnections: 12, maxPerSource: 5 };
  using fixture = disposable(table(limits));
  const { slots, clock } = fixture;
  const sources = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"];
  /** The model: each live slot with its source, state and last activity (a sequence number). */
  const live = new Map<Slot, { source: string; serving: boolean; at: number }>();
  let seq = 0;
  const seen = { evicted: 0, refused: 0 };
  const idlest = (source?: string) =>
    [...live].filter(([, s]) => !s.serving && (source === undefined || s.source === source))
      .sort(([, x], [, y]) => x.at - y.at)[0]?.[0];
  for (let step = 0; step < 20_000; step++) {
    clock.advance(random.int(3));
    const held = [...live.keys()];
    const pick = held[random.int(Math.max(1, held.length))];
    const roll = random.int(10);
    if (roll < 4 || pick === undefined) {
      const source = sources[random.int(sources.length)];
      const count = [...live.values()].filter((s) => s.source === source).length;
      const scope = count >= limits.maxPerSource
        ? source
        : live.size >= limits.maxConnections
        ? undefined
        : null;
      const victim = scope === null ? undefined : idlest(scope);
      const slot = slots.admit({ hostname: source });
      if (scope !== null && victim === undefined) {
        assert.equal(slot, null, "refused only when nothing in scope waits");
        seen.refused++;
        continue;
      }
      assert.ok(slot !== null);
      if (victim !== undefined) {
        assert.ok(victim.signal.aborted, "the idlest waiting one in scope went");
        live.delete(victim);
        seen.evicted++;
      }
      live.set(slot, { source, serving: false, at: ++seq });
    } else if (roll < 5) {
      pick.progressed();
      const state = live.get(pick)!;
      if (!state.serving) state.at = ++seq;
    } else if (roll < 8) {
      pick.serving();
      live.get(pick)!.serving = true;
    } else if (roll < 9) {
      pick.waiting();
      const state = live.get(pick)!;
      if (state.serving) Object.assign(state, { serving: false, at: ++seq });
    } else {
      pick[Symbol.dispose]();
      live.delete(pick);
    }
    assert.equal(slots.size, live.size);
    assert.ok(slots.size <= limits.maxConnections);
    for (const source of sources) {
      const count = [...live.values()].filter((s) => s.source === source).length;
      assert.equal(slots.countOf(source), count);
      assert.ok(count <= limits.maxPerSource);
    }
    assert.ok([...live.keys()].every((slot) => !slot.signal.aborted));
  }
  assert.ok(seen.evicted > 1_000 && seen.refused > 20, JSON.stringify(seen));
});

Deno.test("a source is an IPv4 address, or the /64 of an IPv6 address", () => {
  const cases: [string, string][] = [
    ["192.0.2.7", "192.0.2.7"],
    ["::ffff:192.0.2.7", "192.0.2.7"],
    ["2001:db8:0:1:aa:bb:cc:dd", "2001:db8:0:1::/64"],
    ["2001:DB8:0:1::1", "2001:db8:0:1::/64"],
    ["[2001:db8::1]", "2001:db8:0:0::/64"],
    ["2001:0db8:0000:0001:ffff::", "2001:db8:0:1::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["::", "0:0:0:0::/64"],
  ];
  for (const [hostname, source] of cases) assert.equal(sourceOf(hostname), source, hostname);
  // Two hosts of one /64 share a source; the next /64 is another.
  assert.equal(sourceOf("2001:db8:0:1::a"), sourceOf("2001:db8:0:1:ffff::b"));
  assert.notEqual(sourceOf("2001:db8:0:1::a"), sourceOf("2001:db8:0:2::a"));
});

/** Disposes the fixture's table at the end of the test's scope. */
function disposable<T extends { slots: ConnectionSlots }>(fixture: T): T & Disposable {
  return { ...fixture, [Symbol.dispose]: () => fixture.slots[Symbol.dispose]() };
}

Deno.test("out of file descriptors, the table holds fewer connections from then on, lowered at most once a second", () => {
  using fixture = disposable(table({ maxConnections: 1000, maxPerSource: 1000 }));
  const { slots, clock, lines } = fixture;
  const held = Array.from({ length: 80 }, (_, i) => slots.admit({ hostname: `10.0.0.${i}` })!);
  held[79].serving();

  assert.equal(slots.outOfFiles(), true);
  assert.equal(slots.maxConnections, 60, "80 less a quarter");
  assert.equal(slots.size, 60);
  assert.ok(held.slice(0, 20).every((slot) => slot.signal.aborted), "the idlest went first");
  assert.ok(!held[79].signal.aborted);

  // Within the second, running out again frees one but keeps the cap: the evicted
  // connections may not have closed yet.
  clock.advance(500);
  assert.equal(slots.outOfFiles(), true);
  assert.equal(slots.maxConnections, 60);
  assert.equal(slots.size, 59);

  // The cap holds for new connections: one past it takes the idlest's slot.
  assert.ok(slots.admit({ hostname: "10.0.1.1" }) !== null);
  assert.ok(slots.admit({ hostname: "10.0.1.2" }) !== null);
  assert.equal(slots.size, 60);

  clock.advance(1_000);
  slots.outOfFiles();
  assert.equal(slots.maxConnections, 44, "60 less its headroom of 16");
  assert.equal(
    lines.filter((line) => /warn connections-capped .*reason=out-of-files/.test(line)).length,
    2,
  );
});
