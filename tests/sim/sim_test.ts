import assert from "node:assert/strict";
import { parseSimArgs, replayCommand } from "../../src/sim/main.ts";
import { runPathStudy } from "../../src/sim/paths.ts";
import { DEFAULT_SIM, runSimulation } from "../../src/sim/run.ts";
import { SMALL } from "./_small.ts";
import type { SimServer } from "../../src/sim/world.ts";

Deno.test("runs under loss, duplication, reordering and crashes keep every invariant", async (t) => {
  for (const seed of [11, 12, 13]) {
    await t.step(`seed ${seed}`, async () => {
      const report = await runSimulation({ ...SMALL, seed });
      assert.deepEqual(report.violations, [], replayCommand({ ...SMALL, seed }));
      assert.ok(report.quiet);
      assert.ok(report.stats.lost > 0 && report.stats.duplicated > 0, "faults were injected");
      assert.ok(report.payments.completed > 0, "some payments completed");
    });
  }
});

Deno.test("a seed fixes the whole run: two runs of one seed report the same", async () => {
  const first = await runSimulation({ ...SMALL, seed: 21, steps: 80 });
  const second = await runSimulation({ ...SMALL, seed: 21, steps: 80 });
  assert.deepEqual(second, first);
  const other = await runSimulation({ ...SMALL, seed: 22, steps: 80 });
  assert.notDeepEqual(other.stats, first.stats);
});

/** A planted bug: one server's balance changes are applied twice. */
function doubleBalances(address: string) {
  const last = new Map<string, bigint>();
  return (server: SimServer) => {
    if (server.address !== address) return;
    const store = server.node!.store;
    const commit = store.commit.bind(store);
    store.commit = (changes) => {
      for (const [path, value] of changes) {
        if (!path.endsWith("/balance.txt") || value === null) continue;
        const before = last.get(path) ?? 0n;
        const doubled = before + 2n * (BigInt(value.trim()) - before);
        last.set(path, doubled);
        changes.set(path, `${doubled}\n`);
      }
      return commit(changes);
    };
  };
}

Deno.test("a server that applies balance changes twice is caught", async () => {
  const options = {
    ...SMALL,
    seed: 31,
    faults: DEFAULT_SIM.faults,
    onStart: doubleBalances("s1.sim"),
  };
  const report = await runSimulation(options);
  const caught = new Set(report.violations.map((v) => v.invariant));
  assert.ok(caught.has("balance-disagrees"), [...caught].join(", "));
  assert.ok(caught.has("net-position"));
});

Deno.test("paths are found wherever a breadth-first search over the same capacities finds one", async () => {
  const study = await runPathStudy({ seed: 3, servers: 8, accounts: 60, degree: 4, pairs: 15 });
  assert.deepEqual(study.violations, []);
  assert.equal(study.unexpected, 0);
  assert.equal(study.successRatio, 1);
  const reachable = study.trials.filter((t) => t.shortest !== null);
  assert.ok(reachable.length > 0);
  for (const trial of reachable) assert.ok(trial.found! >= trial.shortest!);
  // The directed walk found most paths without the buyer's flood; the labels were built by
  // the servers themselves, and taken up new peers added beside them (else a violation).
  const walked = reachable.filter((t) => !t.flooded).length;
  assert.ok(walked > reachable.length / 2, `${walked} of ${reachable.length} walked`);
  assert.ok(study.labelsPerAccount > 0 && study.labelsPerNewPeer > 0);
});

Deno.test("the sim command line", async (t) => {
  await t.step("a replay command parses back into the same run", () => {
    const options = { ...SMALL, seed: 5 };
    const argv = replayCommand(options).split(" ").slice(3);
    const parsed = parseSimArgs(argv)!;
    assert.deepEqual(parsed.options, options);
  });
  await t.step("the walk's wait reaches the servers' limits and the replay command", () => {
    const parsed = parseSimArgs(["--walk-wait-ms", "750"])!;
    assert.equal(parsed.options.limits.walkWaitMs, 750);
    assert.match(replayCommand(parsed.options), /--walk-wait-ms 750/);
  });
  await t.step("bad values are usage errors that say what is wanted", () => {
    assert.throws(() => parseSimArgs(["--loss", "1.5"]), /--loss must be a number from 0 to 1/);
    assert.throws(() => parseSimArgs(["--steps", "x"]), /--steps must be a number/);
    assert.throws(() => parseSimArgs(["--delay-ms", "9-3"]), /MIN-MAX/);
    assert.throws(() => parseSimArgs(["--bogus"]), /bogus/);
  });
});
