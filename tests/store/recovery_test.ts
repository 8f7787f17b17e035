/** Opening a store after a crash: every change set is wholly there or wholly gone, and nothing acknowledged is lost. */

import assert from "node:assert/strict";
import { Logger } from "../../src/core/log.ts";
import { writeDurable } from "../../src/store/durable.ts";
import { type ChangeSet, encodeRecord, JournalCorruptError } from "../../src/store/journal.ts";
import { MemoryFileSystem, SimulatedCrash } from "../../src/store/memory_fs.ts";
import { Store, type StoreOptions } from "../../src/store/store.ts";
import { FakeClock, settle } from "../_fake_clock.ts";
import { WatchedFileSystem } from "./_watched_fs.ts";

const ROOT = "/data/ripple";
const SETS = 15;

/**
 * Change set `i` writes two files of its own, overwrites a shared one and moves a marker
 * file from `i - 1` to `i`, so a half-applied set shows as a lone file, a wrong latest or
 * two markers.
 */
function changeSet(i: number): ChangeSet {
  const changes: ChangeSet = new Map([
    [`sets/${i}/a.txt`, `a${i}\n`],
    [`sets/${i}/b.txt`, `b${i}\n`],
    ["latest.txt", `${i}\n`],
    [`marks/${i}.txt`, "mark\n"],
  ]);
  if (i > 0) changes.set(`marks/${i - 1}.txt`, null);
  return changes;
}

/** Commits the change sets, some together and some one by one, then closes the store. */
async function workload(store: Store, acknowledged: Set<number>): Promise<void> {
  let batch: Promise<void>[] = [];
  for (let i = 0; i < SETS; i++) {
    batch.push(store.commit(changeSet(i)).then(() => void acknowledged.add(i)));
    if (i % 3 === 2) {
      await Promise.allSettled(batch);
      batch = [];
    }
    // Now and then let a background checkpoint finish before the next commit.
    if (i % 6 === 5) await settle();
  }
  await Promise.allSettled(batch);
  await store.close();
}

/** Checks every invariant a recovered store must hold; returns how many change sets it holds. */
async function checkRecovered(store: Store, acknowledged: Set<number>, when: string) {
  let present = 0;
  for (let i = 0; i < SETS; i++) {
    const a = await store.read(`sets/${i}/a.txt`);
    const b = await store.read(`sets/${i}/b.txt`);
    assert.equal(a === undefined, b === undefined, `${when}: change set ${i} is half there`);
    if (a === undefined) continue;
    assert.equal(a, `a${i}\n`);
    assert.equal(b, `b${i}\n`);
    assert.equal(present, i, `${when}: change set ${i} is there but an earlier one is not`);
    present++;
  }
  for (const i of acknowledged) {
    assert.ok(i < present, `${when}: acknowledged change set ${i} was lost`);
  }
  const latest = await store.read("latest.txt");
  assert.equal(latest, present === 0 ? undefined : `${present - 1}\n`, `${when}: latest.txt`);
  const marks = await store.list("marks");
  assert.deepEqual(marks, present === 0 ? [] : [`${present - 1}.txt`], `${when}: markers`);
  return present;
}

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

function options(extra: StoreOptions = {}): StoreOptions {
  return { clock: new FakeClock(), segmentBytes: 400, ...extra };
}

async function segmentNames(disk: MemoryFileSystem): Promise<string[]> {
  return ((await disk.view().list(`${ROOT}/journal`)) ?? []).map((e) => e.name).sort();
}

Deno.test("a crash at any operation during commits loses no acknowledged change set and splits none", async (t) => {
  const clean = new MemoryFileSystem();
  const watched = new WatchedFileSystem(clean.view());
  const store = await Store.open(watched, ROOT, options());
  const start = clean.operations;
  await workload(store, new Set());
  const total = clean.operations - start;
  assert.ok(watched.segmentsOpened >= 4, "checkpoints ran in the middle of the commits");
  assert.ok(watched.syncs < SETS, "some change sets shared an fsync");

  for (const tornRate of [0, 1]) {
    await t.step(`crashes at each of ${total} operations, torn writes ${tornRate}`, async () => {
      const outcomes = new Set<number>();
      for (let n = 1; n <= total + 1; n++) {
        const disk = new MemoryFileSystem({ random: seeded(n), tornRate });
        const store = await Store.open(disk.view(), ROOT, options());
        const acknowledged = new Set<number>();
        disk.crashAfter(n);
        const finished = await workload(store, acknowledged).then(() => true, () => false);
        await settle();
        disk.cancelCrash();
        disk.crash();
        const recovered = await Store.open(disk.view(), ROOT, options());
        const present = await checkRecovered(recovered, acknowledged, `crash at ${n}`);
        if (finished) assert.equal(present, SETS);
        outcomes.add(present);
        await recovered.close();
        assert.deepEqual(await segmentNames(disk), []);
      }
      assert.ok(outcomes.has(0) && outcomes.has(SETS), "crashes fell before and after the work");
      assert.ok(outcomes.size > 3, "crashes fell between change sets too");
    });
  }
});

Deno.test("a crash during recovery loses nothing the journal held", async () => {
  const crashed = async () => {
    const disk = new MemoryFileSystem();
    const store = await Store.open(disk.view(), ROOT, options({ segmentBytes: 1 << 20 }));
    await Promise.all(Array.from({ length: SETS }, (_, i) => store.commit(changeSet(i))));
    disk.crash();
    return disk;
  };
  const all = new Set(Array.from({ length: SETS }, (_, i) => i));
  for (let n = 1;; n++) {
    const disk = await crashed();
    disk.crashAfter(n);
    const opened = await Store.open(disk.view(), ROOT, options()).then(
      (store) => store,
      (error) => {
        assert.ok(error instanceof SimulatedCrash, String(error));
        return null;
      },
    );
    disk.cancelCrash();
    if (opened !== null) {
      assert.equal(await checkRecovered(opened, all, "a clean open"), SETS);
      await opened.close();
      assert.ok(n > 10, "recovery wrote the files before it returned");
      return;
    }
    disk.crash();
    const store = await Store.open(disk.view(), ROOT, options());
    assert.equal(await checkRecovered(store, all, `crash at ${n} of recovery`), SETS);
    await store.close();
  }
});

/** A datadir whose journal holds exactly the given segment texts. */
async function journalOf(...segments: string[]): Promise<MemoryFileSystem> {
  const disk = new MemoryFileSystem();
  for (const [i, text] of segments.entries()) {
    await writeDurable(disk.view(), `${ROOT}/journal/00000000000${i + 1}.log`, text);
  }
  return disk;
}

const recordA = encodeRecord(new Map([["a.txt", "A"]]));
const recordB = encodeRecord(new Map([["b.txt", "B"]]));
const recordC = encodeRecord(new Map([["c.txt", "C"]]));

Deno.test("a torn journal tail is dropped on open, and the rest is replayed", async (t) => {
  const disk = await journalOf(recordA + recordB.slice(0, recordB.length - 3));
  const lines: string[] = [];
  const store = await Store.open(disk.view(), ROOT, {
    ...options(),
    logger: new Logger({ sink: (line) => lines.push(line) }),
  });
  assert.equal(await store.read("a.txt"), "A");
  assert.equal(await store.read("b.txt"), undefined);
  assert.ok(lines.some((line) => line.includes("journal-torn-tail-dropped")), lines.join("\n"));
  assert.deepEqual(await segmentNames(disk), ["000000000002.log"], "a fresh segment replaces it");
  await t.step("replayed into the files before open returned", async () => {
    disk.crash();
    const reopened = await Store.open(disk.view(), ROOT, options());
    assert.equal(await reopened.read("a.txt"), "A");
    await reopened.close();
  });
});

Deno.test("a damaged record in the last segment ends the journal there", async () => {
  const damagedB = recordB.replace('"B"', '"X"');
  const disk = await journalOf(recordA, damagedB + recordC);
  const store = await Store.open(disk.view(), ROOT, options());
  assert.equal(await store.read("a.txt"), "A");
  assert.equal(await store.read("b.txt"), undefined);
  assert.equal(await store.read("c.txt"), undefined);
  await store.close();
});

Deno.test("a damaged record in a segment before the last makes open fail", async (t) => {
  await t.step("a bad CRC in the middle", async () => {
    const disk = await journalOf(recordA + recordB.replace('"B"', '"X"') + recordC, recordC);
    await assert.rejects(Store.open(disk.view(), ROOT, options()), JournalCorruptError);
  });
  await t.step("a torn end", async () => {
    const disk = await journalOf(recordA + recordB.slice(0, 10), recordC);
    await assert.rejects(Store.open(disk.view(), ROOT, options()), JournalCorruptError);
  });
  await t.step("nothing was written over the files", async () => {
    const disk = await journalOf(recordA + "junk\n", recordC);
    await assert.rejects(Store.open(disk.view(), ROOT, options()), JournalCorruptError);
    assert.equal(await disk.view().read(`${ROOT}/a.txt`), null);
    assert.equal((await segmentNames(disk)).length, 2, "the journal is left for an operator");
  });
});

Deno.test("a journal record naming an unsafe path makes open fail", async () => {
  for (const path of ["../outside.txt", "/etc/passwd", "a/../../b"]) {
    const disk = await journalOf(recordA + encodeRecord(new Map([[path, "x"]])));
    await assert.rejects(Store.open(disk.view(), ROOT, options()), JournalCorruptError, path);
  }
});
