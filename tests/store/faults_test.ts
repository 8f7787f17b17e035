/** The store on a failing disk: a full disk refuses change sets whole and resumes; any other error stops it, and nothing acknowledged is lost. */

import assert from "node:assert/strict";
import { Logger } from "../../src/core/log.ts";
import { writeDurable } from "../../src/store/durable.ts";
import { encodeRecord } from "../../src/store/journal.ts";
import type { FileSystem } from "../../src/store/fs.ts";
import { DiskError, MemoryFileSystem } from "../../src/store/memory_fs.ts";
import { DiskFullError, Store, StoreFailedError } from "../../src/store/store.ts";
import { Tx } from "../../src/store/tx.ts";
import { FakeClock, settle } from "../_fake_clock.ts";
import { WatchedFileSystem } from "./_watched_fs.ts";
import { changeSet, checkRecovered, ROOT, seeded, SETS, workload } from "./_workload.ts";

const big = (n: number) => "x".repeat(n);

function logged(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: new Logger({ sink: (line) => lines.push(line) }), lines };
}

async function segments(disk: MemoryFileSystem): Promise<string[]> {
  return ((await disk.view().list(`${ROOT}/journal`)) ?? []).map((e) => e.name).sort();
}

async function onDisk(disk: MemoryFileSystem, path: string): Promise<string | null> {
  const bytes = await disk.view().read(`${ROOT}/${path}`);
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

Deno.test("a full disk refuses a change set whole, with every one after it, and resumes when space returns", async (t) => {
  const disk = new MemoryFileSystem();
  const { logger, lines } = logged();
  const store = await Store.open(disk.view(), ROOT, { clock: new FakeClock(), logger });
  await store.commit(new Map([["a.txt", "1"]]));
  const generation = store.generation;
  disk.budget = disk.used + 100;

  await t.step(
    "the change set that does not fit is refused, and the one read from it too",
    async () => {
      const tooBig = store.commit(new Map([["a.txt", "2"], ["b.txt", big(200)]]));
      const after = new Tx(store);
      assert.equal(await after.get("a.txt"), "2", "reads see a change set at once");
      after.set("c.txt", `${await after.get("a.txt")} seen`);
      const following = store.commit(after.changes, after.generation);
      await assert.rejects(tooBig, DiskFullError);
      await assert.rejects(following, DiskFullError);
      assert.ok(store.full);
      assert.equal(store.generation, generation + 1);
      assert.ok(lines.some((line) => line.includes("disk-full")), lines.join("\n"));
    },
  );
  await t.step("nothing of them is left, in memory or on disk", async () => {
    assert.equal(await store.read("a.txt"), "1");
    assert.equal(await store.read("b.txt"), undefined);
    assert.equal(await store.read("c.txt"), undefined);
    disk.crash();
    const reopened = await Store.open(disk.view(), ROOT, { clock: new FakeClock() });
    assert.equal(await reopened.read("a.txt"), "1");
    assert.equal(await reopened.read("b.txt"), undefined);
    await reopened.close();
  });
});

Deno.test("a change set read before others were forgotten is refused, and so is its barrier", async () => {
  const disk = new MemoryFileSystem();
  const store = await Store.open(disk.view(), ROOT, { clock: new FakeClock() });
  const reader = new Tx(store);
  disk.budget = disk.used;
  await assert.rejects(store.commit(new Map([["a.txt", "1"]])), DiskFullError);
  await assert.rejects(store.barrier(reader.generation), DiskFullError);
  await assert.rejects(store.commit(new Map([["b.txt", "1"]]), reader.generation), DiskFullError);
  await store.barrier(store.generation);
  disk.budget = null;
  await store.commit(new Map([["b.txt", "2"]]), new Tx(store).generation);
  assert.equal(store.full, false);
  await store.close();
});

Deno.test("the part of an append that fitted is cut off, so records after it survive a crash", async () => {
  const disk = new MemoryFileSystem();
  const { logger, lines } = logged();
  const store = await Store.open(disk.view(), ROOT, { clock: new FakeClock(), logger });
  await store.commit(new Map([["a.txt", "1"]]));
  const journal = store.journalBytes;
  disk.budget = disk.used + 50;
  await assert.rejects(store.commit(new Map([["b.txt", big(100)]])), DiskFullError);
  assert.equal(store.journalBytes, journal);
  disk.budget = null;
  await store.commit(new Map([["c.txt", "3"]]));
  assert.ok(lines.some((line) => line.includes("disk-space-returned")), lines.join("\n"));
  disk.crash();
  const reopened = await Store.open(disk.view(), ROOT, { clock: new FakeClock() });
  assert.equal(await reopened.read("b.txt"), undefined);
  assert.equal(await reopened.read("c.txt"), "3", "the acknowledged record after the cut");
  await reopened.close();
});

Deno.test("a checkpoint on a full disk waits, keeping the journal, and finishes once space returns", async (t) => {
  const disk = new MemoryFileSystem();
  const clock = new FakeClock();
  const { logger, lines } = logged();
  const store = await Store.open(disk.view(), ROOT, { clock, logger, checkpointDelayMs: 1000 });
  for (let i = 0; i < 5; i++) await store.commit(new Map([[`f/${i}.txt`, big(40)]]));
  disk.budget = disk.used;
  clock.advance(1000);
  await settle();

  await t.step("deferred: the journal is kept and no temp file is left", async () => {
    assert.ok(lines.some((line) => line.includes("checkpoint-deferred")), lines.join("\n"));
    assert.equal(await onDisk(disk, "f/0.txt"), null);
    assert.equal((await segments(disk)).length, 2, "the full segment and the fresh one");
    assert.deepEqual(disk.paths().filter((path) => path.includes(".tmp")), []);
    assert.equal(await store.read("f/4.txt"), big(40));
  });
  await t.step("tried again later, it writes the files and removes the old segment", async () => {
    disk.budget = null;
    clock.advance(1000);
    await settle();
    assert.ok(lines.some((line) => line.includes("checkpoint-resumed")), lines.join("\n"));
    assert.equal(await onDisk(disk, "f/0.txt"), big(40));
    assert.deepEqual(await segments(disk), ["000000000002.log"]);
  });
  await store.close();
});

Deno.test("close on a full disk keeps the journal whole, and the next open replays it", async () => {
  const disk = new MemoryFileSystem();
  const { logger, lines } = logged();
  const store = await Store.open(disk.view(), ROOT, { clock: new FakeClock(), logger });
  await store.commit(new Map([["a.txt", big(50)]]));
  disk.budget = disk.used;
  await store.close();
  assert.ok(lines.some((line) => line.includes("journal-kept")), lines.join("\n"));
  assert.equal((await segments(disk)).length, 1);
  disk.crash();
  disk.budget = null;
  const reopened = await Store.open(disk.view(), ROOT, { clock: new FakeClock() });
  assert.equal(await reopened.read("a.txt"), big(50));
  await reopened.close();
  assert.deepEqual(await segments(disk), []);
  assert.equal(await onDisk(disk, "a.txt"), big(50));
});

Deno.test("opening on a full disk serves the journal from memory and writes it out later", async (t) => {
  const recordA = encodeRecord(new Map([["a.txt", "A"]]));
  const recordB = encodeRecord(new Map([["b.txt", "B"]]));
  const disk = new MemoryFileSystem();
  // A torn tail in the last segment: it must be cut before another segment follows it.
  await writeDurable(
    disk.view(),
    `${ROOT}/journal/000000000001.log`,
    recordA + recordB.slice(0, 9),
  );
  disk.budget = disk.used;
  const clock = new FakeClock();
  const { logger, lines } = logged();
  const store = await Store.open(disk.view(), ROOT, { clock, logger, checkpointDelayMs: 1000 });

  await t.step("reads see the journal; changes are refused", async () => {
    assert.ok(lines.some((line) => line.includes("journal-kept")), lines.join("\n"));
    assert.equal(await store.read("a.txt"), "A");
    await assert.rejects(store.commit(new Map([["c.txt", "C"]])), DiskFullError);
  });
  await t.step("a crash now loses nothing, and the journal is not taken for corrupt", async () => {
    disk.crash();
    const again = await Store.open(disk.view(), ROOT, { clock: new FakeClock() });
    assert.equal(await again.read("a.txt"), "A");
    await again.close();
    assert.equal(await onDisk(disk, "a.txt"), "A");
  });
});

Deno.test("once space returns, the journal kept on open is checkpointed without a restart", async () => {
  const disk = new MemoryFileSystem();
  const first = await Store.open(disk.view(), ROOT, { clock: new FakeClock() });
  await first.commit(new Map([["a.txt", "A"]]));
  disk.crash();
  disk.budget = disk.used;
  const clock = new FakeClock();
  const store = await Store.open(disk.view(), ROOT, { clock, checkpointDelayMs: 1000 });
  assert.equal(await onDisk(disk, "a.txt"), null);
  disk.budget = null;
  await store.commit(new Map([["b.txt", "B"]]));
  clock.advance(1000);
  await settle();
  assert.equal(await onDisk(disk, "a.txt"), "A");
  assert.equal(await onDisk(disk, "b.txt"), "B");
  assert.equal((await segments(disk)).length, 1, "only the current segment is left");
  await store.close();
});

Deno.test("at any byte budget, exactly the acknowledged change sets survive, and writes resume", async () => {
  const outcomes = new Set<number>();
  for (let budget = 0; budget <= 2400; budget += 75) {
    const disk = new MemoryFileSystem();
    const store = await Store.open(disk.view(), ROOT, {
      clock: new FakeClock(),
      segmentBytes: 400,
    });
    disk.budget = disk.used + budget;
    const acknowledged = new Set<number>();
    const commits = Array.from(
      { length: SETS },
      (_, i) =>
        store.commit(changeSet(i)).then(() => void acknowledged.add(i), (error) => {
          assert.ok(error instanceof DiskFullError, String(error));
        }),
    );
    await Promise.all(commits);
    await settle();
    outcomes.add(acknowledged.size);
    disk.budget = null;
    await store.commit(new Map([["after.txt", "resumed"]]));
    await store.close();
    disk.crash();
    const reopened = await Store.open(disk.view(), ROOT, { clock: new FakeClock() });
    for (let i = 0; i < SETS; i++) {
      const there = (await reopened.read(`sets/${i}/a.txt`)) !== undefined;
      assert.equal(there, acknowledged.has(i), `budget ${budget}: change set ${i}`);
      assert.equal((await reopened.read(`sets/${i}/b.txt`)) !== undefined, there);
    }
    assert.equal(await reopened.read("after.txt"), "resumed");
    await reopened.close();
  }
  assert.ok(outcomes.has(0) && outcomes.has(SETS) && outcomes.size > 2, [...outcomes].join(" "));
});

Deno.test("an fsync error stops the store at once, and the fsync is never tried again", async () => {
  const disk = new MemoryFileSystem();
  const watched = new WatchedFileSystem(disk.view());
  const failures: Error[] = [];
  const store = await Store.open(watched, ROOT, {
    clock: new FakeClock(),
    onFailure: (error) => failures.push(error),
  });
  await store.commit(new Map([["a.txt", "1"]]));
  disk.eio.sync = 1;
  const syncs = watched.syncs;
  await assert.rejects(store.commit(new Map([["b.txt", "2"]])), StoreFailedError);
  await assert.rejects(store.commit(new Map([["c.txt", "3"]])), StoreFailedError);
  await assert.rejects(store.barrier(), StoreFailedError);
  await assert.rejects(store.close(), StoreFailedError);
  assert.equal(watched.syncs, syncs + 1, "one fsync, failed, and none after it");
  assert.equal(failures.length, 1);
  assert.match(failures[0].message, /Input\/output error/);
});

Deno.test("an I/O error at any point of a checkpoint stops the store, and a restart loses nothing", async (t) => {
  for (const operation of ["write", "sync", "rename", "syncDir"] as const) {
    await t.step(operation, async () => {
      const disk = new MemoryFileSystem({ random: seeded(3) });
      const clock = new FakeClock();
      const failures: Error[] = [];
      const store = await Store.open(disk.view(), ROOT, {
        clock,
        checkpointDelayMs: 1000,
        onFailure: (error) => failures.push(error),
      });
      for (let i = 0; i < 4; i++) await store.commit(changeSet(i));
      disk.eio[operation] = 1;
      clock.advance(1000);
      await settle();
      assert.equal(failures.length, 1, "the checkpoint's error stopped the store");
      await assert.rejects(store.commit(changeSet(4)), StoreFailedError);
      disk.eio[operation] = 0;
      disk.kill();
      const restarted = await Store.open(disk.view(), ROOT, { clock: new FakeClock() });
      assert.equal(await checkRecovered(restarted, new Set([0, 1, 2, 3]), operation), 4);
      await restarted.close();
    });
  }
});

Deno.test("I/O errors anywhere, then a restart or a crash, lose no acknowledged change set and split none", async () => {
  let stopped = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const disk = new MemoryFileSystem({
      random: seeded(seed),
      tornRate: 0.5,
      loseUnsyncedDirs: true,
      eio: { write: 0.02, sync: 0.02, rename: 0.02, syncDir: 0.02 },
    });
    const opened = await Store.open(disk.view(), ROOT, {
      clock: new FakeClock(),
      segmentBytes: 400,
      onFailure: () => stopped++,
    }).catch(() => null);
    if (opened === null) continue;
    const acknowledged = new Set<number>();
    await workload(opened, acknowledged).catch(() => {});
    await settle();
    disk.eio = { write: 0, sync: 0, rename: 0, syncDir: 0 };
    if (seed % 2 === 0) disk.crash();
    else disk.kill();
    const recovered = await Store.open(disk.view(), ROOT, { clock: new FakeClock() });
    await checkRecovered(recovered, acknowledged, `seed ${seed}`);
    await recovered.close();
  }
  assert.ok(stopped > 20, `only ${stopped} runs met an I/O error`);
});

/** The disk's view, with fsyncs of the directories `failing` picks failing with EIO. */
function failingDirSync(disk: MemoryFileSystem, failing: (dir: string) => boolean): FileSystem {
  const fs = disk.view();
  return new Proxy(fs, {
    get(target, name) {
      if (name !== "syncDir") return Reflect.get(target, name).bind(target);
      return (dir: string) =>
        failing(dir) ? Promise.reject(new DiskError("EIO", "fsync", dir)) : target.syncDir(dir);
    },
  });
}

Deno.test("a directory made by a life that stopped before fsyncing its parent survives the next crash", async () => {
  const disk = new MemoryFileSystem({ loseUnsyncedDirs: true });
  const clock = new FakeClock();
  let armed = false;
  const fs = failingDirSync(disk, (dir) => armed && dir === `${ROOT}/new`);
  const store = await Store.open(fs, ROOT, { clock, checkpointDelayMs: 1000, onFailure() {} });
  await store.commit(new Map([["new/dir/file.txt", "kept"]]));
  // The checkpoint makes the directories, then fails to fsync the new one's parent.
  armed = true;
  clock.advance(1000);
  await settle();
  await assert.rejects(store.commit(new Map([["x.txt", "1"]])), StoreFailedError);
  disk.kill();
  const next = await Store.open(disk.view(), ROOT, { clock: new FakeClock() });
  assert.equal((await segments(disk)).length, 1, "the replay removed the old segments");
  disk.crash();
  const after = await Store.open(disk.view(), ROOT, { clock: new FakeClock() });
  assert.equal(await after.read("new/dir/file.txt"), "kept");
  await after.close();
  await next.close().catch(() => {});
});
