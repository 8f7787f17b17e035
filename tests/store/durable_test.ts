/** Crash-safe file replacement: after a crash at any point a file holds its old content or its new. */

import assert from "node:assert/strict";
import {
  isHidden,
  SECRET_MODE,
  tempPath,
  writeDurable,
  writeDurableBatch,
} from "../../src/store/durable.ts";
import { DenoFileSystem } from "../../src/store/fs.ts";
import { MemoryFileSystem, SimulatedCrash } from "../../src/store/memory_fs.ts";

const decoder = new TextDecoder();

async function readText(disk: MemoryFileSystem, path: string): Promise<string | null> {
  const bytes = await disk.view().read(path);
  return bytes === null ? null : decoder.decode(bytes);
}

/** A seeded generator, so torn crashes cut at varied but repeatable places. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

Deno.test("the temp file sits beside its target and is hidden from listings", () => {
  assert.equal(tempPath("/r/accounts/alice/counter.txt"), "/r/accounts/alice/.counter.txt.tmp");
  assert.ok(isHidden(".counter.txt.tmp"));
  assert.ok(!isHidden("counter.txt"));
});

Deno.test("a durable write creates missing directories and leaves no temp file", async () => {
  const disk = new MemoryFileSystem();
  const fs = disk.view();
  await writeDurable(fs, "/r/a/b/file.txt", "new\n");
  assert.equal(await readText(disk, "/r/a/b/file.txt"), "new\n");
  assert.deepEqual(disk.paths(), ["/r/a/b/file.txt"]);
  disk.crash();
  assert.equal(await readText(disk, "/r/a/b/file.txt"), "new\n", "it was durable when it returned");
});

Deno.test("storage survives a crash between temp write and rename", async (t) => {
  const path = "/r/accounts/alice/counter.txt";
  for (const old of [null, "old content\n"]) {
    for (const tornRate of [0, 1]) {
      await t.step(
        `${old === null ? "a new file" : "an existing file"}, torn ${tornRate}`,
        async () => {
          let sawOld = false;
          let sawNew = false;
          for (let n = 1;; n++) {
            const disk = new MemoryFileSystem({ random: seeded(n), tornRate });
            if (old !== null) await writeDurable(disk.view(), path, old);
            const before = disk.operations;
            disk.crashAfter(n);
            let crashed = false;
            try {
              await writeDurable(disk.view(), path, "the new content\n");
            } catch (error) {
              assert.ok(error instanceof SimulatedCrash);
              crashed = true;
            }
            if (!crashed) disk.cancelCrash();
            disk.crash();
            const after = await readText(disk, path);
            assert.ok(
              after === old || after === "the new content\n",
              `crash at operation ${n} left ${JSON.stringify(after)}`,
            );
            if (after === old) sawOld = true;
            else sawNew = true;
            if (!crashed) {
              assert.equal(after, "the new content\n", "a write that returned is durable");
              assert.ok(disk.operations - before >= 4, "mkdir, write, rename and sync all ran");
              break;
            }
          }
          assert.ok(sawOld && sawNew);
        },
      );
    }
  }
});

Deno.test("a batch replaces and removes files durably", async () => {
  const disk = new MemoryFileSystem();
  const fs = disk.view();
  await writeDurableBatch(fs, [["/r/a.txt", "a"], ["/r/d/b.txt", "b"], ["/r/gone.txt", "x"]]);
  await writeDurableBatch(fs, [["/r/a.txt", "a2"], ["/r/gone.txt", null], ["/r/d/c.txt", "c"]]);
  disk.crash();
  assert.deepEqual(disk.paths(), ["/r/a.txt", "/r/d/b.txt", "/r/d/c.txt"]);
  assert.equal(await readText(disk, "/r/a.txt"), "a2");
});

Deno.test("each file of a batch is old or new after a crash at any point", async () => {
  const files: [string, string | null][] = [["/r/x/1", "one2"], ["/r/y/2", "two2"], [
    "/r/x/3",
    null,
  ]];
  const old = new Map([["/r/x/1", "one"], ["/r/y/2", "two"], ["/r/x/3", "three"]]);
  for (let n = 1; n < 40; n++) {
    const disk = new MemoryFileSystem();
    await writeDurableBatch(disk.view(), old);
    disk.crashAfter(n);
    const done = await writeDurableBatch(disk.view(), files).then(() => true, () => false);
    disk.cancelCrash();
    disk.crash();
    for (const [path, value] of files) {
      const after = await readText(disk, path);
      assert.ok(after === old.get(path) || after === value, `${path} after crash at ${n}`);
      if (done) assert.equal(after, value);
    }
    if (done) return;
  }
  assert.fail("the batch never finished");
});

Deno.test("a secret key file is written with mode 0600 on the real disk", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ripple-durable-" });
  try {
    const path = `${dir}/accounts/alice/secretkey.txt`;
    await writeDurable(new DenoFileSystem(), path, "00\n", SECRET_MODE);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal(await Deno.readTextFile(path), "00\n");
    const names = [...Deno.readDirSync(`${dir}/accounts/alice`)].map((e) => e.name);
    assert.deepEqual(names, ["secretkey.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
