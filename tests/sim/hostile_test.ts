import assert from "node:assert/strict";
import { DEFAULT_BEHAVIOURS, NO_HOSTILE } from "../../src/sim/hostile.ts";
import { replayCommand } from "../../src/sim/main.ts";
import {
  DEFAULT_SIM,
  HONEST_COMPLETION,
  honestCompletion,
  runSimulation,
  type SimOptions,
  type SimReport,
} from "../../src/sim/run.ts";
import type { SimServer } from "../../src/sim/world.ts";

/**
 * 5 servers, one of them hostile with every behaviour that ends. Steps 200 ms apart (40 s in
 * all), so that the workload outlasts the few seconds an honest account takes to catch a
 * staller (docs/protocol.md §8).
 */
const HOSTILE: SimOptions = {
  ...DEFAULT_SIM,
  servers: 5,
  accounts: 20,
  steps: 200,
  stepEveryMs: 200,
  hostile: { ...NO_HOSTILE, servers: 1 },
};

Deno.test("with a hostile server, honest accounts keep every invariant and their payments still complete", async (t) => {
  const reports: SimReport[] = [];
  // One seed's ratio swings between about 0.92 and 1.05 by chance alone (the runs with and
  // without attacks diverge at the first attack), so six seeds are judged together.
  for (const seed of [41, 42, 43, 44, 45, 46]) {
    await t.step(`seed ${seed}`, async () => {
      const report = await runSimulation({ ...HOSTILE, seed });
      assert.deepEqual(report.violations, [], replayCommand({ ...HOSTILE, seed }));
      assert.ok(report.quiet);
      reports.push(report);
    });
  }
  await t.step("every behaviour was at work", () => {
    const done = new Set(reports.flatMap((r) => Object.keys(r.honest.attacks)));
    assert.deepEqual([...done].sort(), [...DEFAULT_BEHAVIOURS].sort());
  });
  await t.step(
    `honest completion is at least ${HONEST_COMPLETION} of the run without attacks`,
    () => {
      const all = honestCompletion(reports);
      assert.ok(all.comparable >= 100, `only ${all.comparable} payments to compare`);
      assert.ok(
        all.ratio >= HONEST_COMPLETION,
        `${all.withAttacks} completed with attacks, ${all.without} without`,
      );
    },
  );
});

Deno.test("the untrusted baseline extends no credit to a hostile server: no path passes it", async () => {
  // The run without attacks, as runSimulation makes it with `baseline: "untrusted"`: no
  // behaviours, and no credit to or from the hostile server's accounts.
  const calm = (untrusted: boolean) =>
    runSimulation({
      ...HOSTILE,
      seed: 43,
      hostile: { ...NO_HOSTILE, servers: 1, behaviours: [], untrusted },
    });
  const untrusted = await calm(true);
  assert.deepEqual(
    untrusted.violations,
    [],
    "a run that trusts no hostile server keeps every invariant",
  );
  const completed = [...untrusted.honest.untouched.values()].filter((c) => c).length;
  assert.ok(completed > 0, "payments complete around the untrusted server");
  assert.equal(untrusted.honest.untouched.size, untrusted.operations.payments, "none passed it");
  // The same seed with the server trusted and behaving routes some payments through it.
  const behaving = await calm(false);
  assert.ok(behaving.honest.untouched.size < behaving.operations.payments);
});

/**
 * Runs `options` as they are, which must keep every invariant, and with `bug` planted in every
 * server, which `invariant` must catch; returns the report of the run without the bug.
 */
async function assertCaught(
  options: SimOptions,
  bug: (server: SimServer) => void,
  invariant: string,
): Promise<SimReport> {
  const honest = await runSimulation(options);
  assert.deepEqual(honest.violations, [], "without the bug the same run keeps every invariant");
  const report = await runSimulation({ ...options, onStart: bug });
  const caught = report.violations.filter((v) => v.invariant === invariant);
  assert.ok(caught.length > 0, `the ${invariant} invariant catches it`);
  return honest;
}

/** A planted bug: servers let payments passing through use whole trustlines. */
function noCreditLimit(server: SimServer): void {
  server.node!.limits.peerLockSharePercent = 100;
}

Deno.test("a server that does not enforce the per-neighbour credit limit is caught", async () => {
  const options: SimOptions = {
    ...HOSTILE,
    seed: 44,
    hostile: { ...NO_HOSTILE, servers: 1, behaviours: ["flood-locks"], attackEveryMs: 50 },
    compareHonest: false,
  };
  await assertCaught(options, noCreditLimit, "neighbour-cap");
});

/** A planted bug: servers that never release a silent downstream (their grace never ends). */
function neverRelease(server: SimServer): void {
  server.node!.limits.releaseGraceMs = 1e12;
}

Deno.test("a server that never releases a payment held up after the commit is caught", async () => {
  const options: SimOptions = {
    ...HOSTILE,
    steps: 80,
    quietWithinMs: 60 * 60_000,
    seed: 45,
    hostile: { ...NO_HOSTILE, servers: 1, behaviours: ["stall-commit-forever"] },
    compareHonest: false,
  };
  const honest = await assertCaught(options, neverRelease, "record-outlived");
  assert.ok(honest.honest.stalledEnds.length > 0, "some payments were held up and released");
});

/** A planted bug: servers that pass payments on towards a neighbour holding one up. */
function noHeldUpLimit(server: SimServer): void {
  server.node!.limits.peerHeldUp = 0;
}

Deno.test("a server that passes payments on towards a neighbour holding one up is caught", async () => {
  const options: SimOptions = {
    ...HOSTILE,
    seed: 46,
    hostile: { ...NO_HOSTILE, servers: 1, behaviours: ["stall-commit-forever"] },
    compareHonest: false,
  };
  await assertCaught(options, noHeldUpLimit, "held-up-limit");
});

/** A planted bug: servers that pass payments on towards a neighbour keeping them waiting. */
function noWaitingLimit(server: SimServer): void {
  server.node!.limits.peerWaiting = 0;
}

Deno.test("a server that passes payments on towards a neighbour that only ever says waiting is caught", async () => {
  const options: SimOptions = {
    ...HOSTILE,
    seed: 44,
    hostile: { ...NO_HOSTILE, servers: 1, behaviours: ["stall-waiting"] },
    compareHonest: false,
  };
  await assertCaught(options, noWaitingLimit, "held-up-limit");
});

Deno.test("a hop that lies committed makes buyers pay for nothing unless they demand the seller's receipt", async () => {
  const options: SimOptions = {
    ...HOSTILE,
    seed: 42,
    hostile: { ...NO_HOSTILE, servers: 1, behaviours: ["lie-committed"] },
    compareHonest: false,
  };
  const protectedRun = await runSimulation(options);
  assert.deepEqual(protectedRun.violations, [], replayCommand(options));
  assert.ok((protectedRun.honest.attacks["lie-committed"] ?? 0) > 0, "the hop lied");
  const bare = await runSimulation({ ...options, receipts: false });
  const caught = bare.violations.filter((v) => v.invariant === "outcome-disagrees");
  assert.ok(caught.length > 0, "without receipts, buyers completed where sellers failed");
});
