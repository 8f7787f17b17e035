import assert from "node:assert/strict";
import { runSeedTasks, type SeedResult, type SeedTask } from "../../src/sim/seeds.ts";
import { SMALL } from "./_small.ts";

/** A result without its real time, which is the machine's, not the seed's. */
function seedOnly(result: SeedResult): unknown {
  const { realMs: _, ...rest } = result;
  return rest;
}

Deno.test("seeds run in workers side by side give what they give one after another, in order", async () => {
  const tasks: SeedTask[] = [3, 4, 5].map((seed) => ({
    kind: "sim",
    options: { ...SMALL, seed, steps: 60 },
    shrink: false,
  }));
  const here: SeedResult[] = [];
  await runSeedTasks(tasks, 1, (result) => here.push(result));
  const order: number[] = [];
  const side: SeedResult[] = [];
  await runSeedTasks(tasks, 2, (result, index) => {
    order.push(index);
    side.push(result);
  });
  assert.deepEqual(order, [0, 1, 2]);
  assert.deepEqual(side.map((r) => r.kind === "sim" && r.report.seed), [3, 4, 5]);
  for (const result of here) {
    assert.ok(result.kind === "sim" && result.report.payments.completed > 0, "payments ran");
  }
  assert.deepEqual(side.map(seedOnly), here.map(seedOnly));
});

Deno.test("a seed that throws in its worker fails the run with the worker's error", async () => {
  const task: SeedTask = {
    kind: "sim",
    // No servers to pick accounts from: the topology cannot be built.
    options: { ...SMALL, servers: 0, accounts: 0, steps: 10 },
    shrink: false,
  };
  await assert.rejects(
    runSeedTasks([task, { ...task, options: { ...task.options, seed: 2 } }], 2, () => {}),
    /seed [12] failed in its worker: TypeError/,
  );
});
