/** One datagram at a time per account, first in first out, with a bounded queue. */

import assert from "node:assert/strict";
import { BusyError, LockManager } from "../../src/server/lock_manager.ts";
import { settle } from "../_fake_clock.ts";

/** A task that records when it starts and finishes only when the test lets it. */
function gatedTask(log: string[], name: string) {
  const gate = Promise.withResolvers<void>();
  return {
    release: () => gate.resolve(),
    fail: (error: Error) => gate.reject(error),
    task: async () => {
      log.push(`start ${name}`);
      await gate.promise;
      log.push(`end ${name}`);
      return name;
    },
  };
}

Deno.test("tasks of one account run one at a time in the order they arrived", async (t) => {
  const locks = new LockManager({ maxQueued: 8 });
  const log: string[] = [];
  const tasks = ["a", "b", "c"].map((name) => gatedTask(log, name));
  const results = tasks.map(({ task }) => locks.run("alice", task));

  await t.step("only the first starts", async () => {
    await settle();
    assert.deepEqual(log, ["start a"]);
    assert.equal(locks.busyKeys, 1);
  });
  await t.step("each next one starts only when the one before has finished", async () => {
    tasks[0].release();
    await settle();
    assert.deepEqual(log, ["start a", "end a", "start b"]);
    tasks[1].release();
    await settle();
    assert.deepEqual(log, ["start a", "end a", "start b", "end b", "start c"]);
    tasks[2].release();
    assert.deepEqual(await Promise.all(results), ["a", "b", "c"]);
  });
  await t.step("an idle account holds no lane", () => {
    assert.equal(locks.busyKeys, 0);
  });
});

Deno.test("many queued tasks keep their arrival order", async () => {
  const locks = new LockManager({ maxQueued: 100 });
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      locks.run("alice", async () => {
        if (i % 3 === 0) await settle();
        order.push(i);
      })),
  );
  assert.deepEqual(order, Array.from({ length: 50 }, (_, i) => i));
});

Deno.test("different accounts run at the same time", async () => {
  const locks = new LockManager({ maxQueued: 8 });
  const log: string[] = [];
  const alice = gatedTask(log, "alice");
  const bob = gatedTask(log, "bob");
  const aliceDone = locks.run("alice", alice.task);
  const bobDone = locks.run("bob", bob.task);
  await settle();
  assert.deepEqual(log, ["start alice", "start bob"]);
  assert.equal(locks.busyKeys, 2);
  bob.release();
  assert.equal(await bobDone, "bob");
  assert.deepEqual(log, ["start alice", "start bob", "end bob"], "bob finished while alice waits");
  alice.release();
  assert.equal(await aliceDone, "alice");
});

Deno.test("a full queue answers busy, and a refused task blocks nothing", async (t) => {
  const locks = new LockManager({ maxQueued: 2 });
  const log: string[] = [];
  const first = gatedTask(log, "first");
  const second = gatedTask(log, "second");
  const firstDone = locks.run("alice", first.task);
  const secondDone = locks.run("alice", second.task);
  let refusedRan = false;

  await t.step("a third task for the same account is refused at once", async () => {
    await assert.rejects(
      locks.run("alice", () => {
        refusedRan = true;
        return Promise.resolve("third");
      }),
      BusyError,
    );
  });
  await t.step("another account is not affected", async () => {
    assert.equal(await locks.run("bob", () => Promise.resolve("bob")), "bob");
  });
  await t.step("the queued tasks finish and the refused one never runs", async () => {
    first.release();
    second.release();
    assert.equal(await firstDone, "first");
    assert.equal(await secondDone, "second");
    assert.equal(refusedRan, false);
    assert.equal(locks.busyKeys, 0);
  });
  await t.step("the account takes tasks again once its queue drains", async () => {
    const later = await Promise.all([
      locks.run("alice", () => Promise.resolve(1)),
      locks.run("alice", () => Promise.resolve(2)),
    ]);
    assert.deepEqual(later, [1, 2]);
  });
});

Deno.test("the bound counts the running task, and frees a place as each one ends", async () => {
  const locks = new LockManager({ maxQueued: 1 });
  const log: string[] = [];
  const running = gatedTask(log, "running");
  const done = locks.run("alice", running.task);
  await assert.rejects(locks.run("alice", () => Promise.resolve()), BusyError);
  running.release();
  await done;
  assert.equal(await locks.run("alice", () => Promise.resolve("next")), "next");
});

Deno.test("a task that throws rejects its own caller and does not block the lane", async (t) => {
  const locks = new LockManager({ maxQueued: 8 });
  const log: string[] = [];
  const failing = gatedTask(log, "failing");
  const failed = locks.run("alice", failing.task);
  const after = locks.run("alice", () => Promise.resolve("after"));

  await t.step("the failure reaches the caller of the failing task", async () => {
    failing.fail(new Error("handler failed"));
    await assert.rejects(failed, /handler failed/);
  });
  await t.step("the next task in the lane still runs", async () => {
    assert.equal(await after, "after");
  });
  await t.step("a task that throws before returning a promise behaves the same", async () => {
    const sync = locks.run(
      "alice",
      (() => {
        throw new Error("thrown synchronously");
      }) as () => Promise<void>,
    );
    const next = locks.run("alice", () => Promise.resolve("still runs"));
    await assert.rejects(sync, /thrown synchronously/);
    assert.equal(await next, "still runs");
    assert.equal(locks.busyKeys, 0);
  });
});
