/** Opening a store after a crash: every change set is wholly there or wholly gone, and nothing acknowledged is lost. */

import assert from "node:assert/strict";
import { Logger } from "../../src/core/log.ts";
import { writeDurable } from "../../src/store/durable.ts";
import { encodeRecord, JournalCorruptError } from "../../src/store/journal.ts";
import { MemoryFileSystem, SimulatedCrash } from "../../src/store/memory_fs.ts";
import { Store } from "../../src/store/store.ts";
import { settle } from "../_fake_clock.ts";
import { WatchedFileSystem } from "./_watched_fs.ts";
import { changeSet, checkRecovered, options, ROOT, seeded, SETS, workload } from "./_workload.ts";

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

  const variants = [[0, false], [1, false], [1, true]] as const;
  for (const [tornRate, loseUnsyncedDirs] of variants) {
    const name = `crashes at each of ${total} operations, torn writes ${tornRate}` +
      (loseUnsyncedDirs ? ", unsynced directories lost" : "");
    await t.step(name, async () => {
      const outcomes = new Set<number>();
      for (let n = 1; n <= total + 1; n++) {
        const disk = new MemoryFileSystem({ random: seeded(n), tornRate, loseUnsyncedDirs });
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

Deno.test("a crash during recovery loses nothing the journal held", async (t) => {
  for (const loseUnsyncedDirs of [false, true]) {
    await t.step(loseUnsyncedDirs ? "unsynced directories lost" : "directories kept", async () => {
      const crashed = async () => {
        const disk = new MemoryFileSystem({ loseUnsyncedDirs });
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
