/** The store: change sets visible at once, durable through a group-committed journal, checkpointed into files. */

import assert from "node:assert/strict";
import { Logger } from "../../src/core/log.ts";
import { MemoryFileSystem } from "../../src/store/memory_fs.ts";
import { Store, StoreFailedError } from "../../src/store/store.ts";
import { FakeClock, settle } from "../_fake_clock.ts";
import { WatchedFileSystem } from "./_watched_fs.ts";

const ROOT = "/data/ripple";
const decoder = new TextDecoder();

async function onDisk(disk: MemoryFileSystem, path: string): Promise<string | null> {
  const bytes = await disk.view().read(`${ROOT}/${path}`);
  return bytes === null ? null : decoder.decode(bytes);
}

async function segments(disk: MemoryFileSystem): Promise<string[]> {
  const entries = (await disk.view().list(`${ROOT}/journal`)) ?? [];
  return entries.map((e) => e.name).filter((name) => name.endsWith(".log")).sort();
}

Deno.test("a committed change set is read back, and a removed file reads as missing", async () => {
  const clock = new FakeClock();
  const store = await Store.open(new MemoryFileSystem().view(), ROOT, { clock });
  assert.equal(await store.read("accounts/alice/counter.txt"), undefined);
  await store.commit(new Map([["accounts/alice/counter.txt", "1\n"], ["pending/alice", ""]]));
  assert.equal(await store.read("accounts/alice/counter.txt"), "1\n");
  assert.equal(await store.read("pending/alice"), "", "an empty file is not a missing one");
  await store.commit(new Map([["pending/alice", null]]));
  assert.equal(await store.read("pending/alice"), undefined);
  await store.close();
});

Deno.test("reads see a commit before it is durable", async (t) => {
  const watched = new WatchedFileSystem(new MemoryFileSystem().view());
  const store = await Store.open(watched, ROOT, { clock: new FakeClock() });
  watched.holdSyncs();
  let durable = false;
  const committed = store.commit(new Map([["accounts/alice/counter.txt", "7\n"]]))
    .then(() => (durable = true));

  await t.step("the fsync is held, so the commit is not durable", async () => {
    await settle();
    assert.equal(watched.syncs, 1);
    assert.equal(durable, false);
  });
  await t.step("a read already sees it", async () => {
    assert.equal(await store.read("accounts/alice/counter.txt"), "7\n");
    assert.deepEqual(await store.list("accounts/alice"), ["counter.txt"]);
  });
  await t.step("the promise resolves once the fsync completes", async () => {
    watched.openSyncs();
    await committed;
    assert.equal(durable, true);
  });
  await store.close();
});

Deno.test("a commit made as soon as the one before is durable is not left waiting", async () => {
  // Each commit is made in the very microtask its predecessor's promise resolves in, while
  // the commit loop that resolved it has not yet marked itself finished.
  const store = await Store.open(new MemoryFileSystem().view(), ROOT, { clock: new FakeClock() });
  const durable: number[] = [];
  for (let i = 0; i < 5; i++) {
    await store.commit(new Map([["accounts/alice/counter.txt", `${i}\n`]]));
    durable.push(i);
  }
  assert.deepEqual(durable, [0, 1, 2, 3, 4]);
  assert.equal(await store.read("accounts/alice/counter.txt"), "4\n");
  await store.close();
});

Deno.test("list merges committed creates and deletes with the files on disk", async (t) => {
  const disk = new MemoryFileSystem();
  const clock = new FakeClock();
  const first = await Store.open(disk.view(), ROOT, { clock });
  await first.commit(new Map([["d/a", "a"], ["d/b", "b"], ["d/sub/x", "x"]]));
  await first.close();
  await disk.view().write(`${ROOT}/d/.b.tmp`, new Uint8Array([1]));
  const store = await Store.open(disk.view(), ROOT, { clock });

  await t.step("the files on disk, without hidden temp files", async () => {
    assert.deepEqual(await store.list("d"), ["a", "b", "sub"]);
  });
  await t.step("a created file appears and a deleted one goes at once", async () => {
    await store.commit(new Map([["d/c", "c"], ["d/a", null], ["d/new/y", "y"]]));
    assert.deepEqual(await store.list("d"), ["b", "c", "new", "sub"]);
    assert.deepEqual(await store.list("d/new"), ["y"]);
    assert.deepEqual(await store.list("nowhere"), []);
  });
  await t.step("the same after a checkpoint into the files", async () => {
    await store.close();
    const reopened = await Store.open(disk.view(), ROOT, { clock });
    assert.deepEqual(await reopened.list("d"), ["b", "c", "new", "sub"]);
    await reopened.close();
  });
});

Deno.test("a listing that a checkpoint overtakes still shows the committed changes", async () => {
  const disk = new MemoryFileSystem();
  const clock = new FakeClock();
  const first = await Store.open(disk.view(), ROOT, { clock });
  await first.commit(new Map([["d/a", "a"], ["d/b", "b"]]));
  await first.close();
  const watched = new WatchedFileSystem(disk.view());
  const store = await Store.open(watched, ROOT, { clock, checkpointDelayMs: 100 });
  await store.commit(new Map([["d/c", "c"], ["d/a", null]]));

  watched.hold(`${ROOT}/d`);
  const listing = store.list("d");
  await settle();
  clock.advance(100);
  await settle();
  assert.equal(await onDisk(disk, "d/c"), "c", "the checkpoint finished while the listing ran");
  watched.release(`${ROOT}/d`);
  assert.deepEqual(await listing, ["b", "c"]);
  await store.close();
});

Deno.test("a disk read that a checkpoint overtakes does not bring a deleted file back", async () => {
  const disk = new MemoryFileSystem();
  const clock = new FakeClock();
  const first = await Store.open(disk.view(), ROOT, { clock });
  await first.commit(new Map([["d/x", "old"]]));
  await first.close();
  const watched = new WatchedFileSystem(disk.view());
  const store = await Store.open(watched, ROOT, { clock, checkpointDelayMs: 100 });

  watched.hold(`${ROOT}/d/x`);
  const reading = store.read("d/x");
  await settle();
  await store.commit(new Map([["d/x", null]]));
  clock.advance(100);
  await settle();
  assert.equal(await onDisk(disk, "d/x"), null, "the checkpoint removed the file meanwhile");
  watched.release(`${ROOT}/d/x`);
  await reading;
  assert.equal(await store.read("d/x"), undefined, "the removed file's old text is not cached");
  await store.close();
});

Deno.test("change sets committed while an fsync runs share the next one", async () => {
  const watched = new WatchedFileSystem(new MemoryFileSystem().view());
  const store = await Store.open(watched, ROOT, { clock: new FakeClock() });
  const commits = Array.from(
    { length: 50 },
    (_, i) => store.commit(new Map([[`accounts/u${i}/counter.txt`, `${i}\n`]])),
  );
  await Promise.all(commits);
  assert.ok(watched.syncs <= 2, `50 concurrent commits took ${watched.syncs} fsyncs`);
  for (let i = 0; i < 50; i += 7) {
    assert.equal(await store.read(`accounts/u${i}/counter.txt`), `${i}\n`);
  }
  const before = watched.syncs;
  for (let i = 0; i < 5; i++) await store.commit(new Map([["x", `${i}`]]));
  assert.equal(watched.syncs - before, 5, "a commit on its own takes its own fsync");
  await store.close();
});

Deno.test("a change set naming an unsafe path is refused whole", async () => {
  const store = await Store.open(new MemoryFileSystem().view(), ROOT, { clock: new FakeClock() });
  for (
    const path of ["../etc/passwd", "/abs", "a/../b", "a//b", "A/b", "a/", "", ".hidden", "a/.b"]
  ) {
    await assert.rejects(
      store.commit(new Map([["ok.txt", "1"], [path, "x"]])),
      StoreFailedError,
      JSON.stringify(path),
    );
  }
  assert.equal(await store.read("ok.txt"), undefined);
  await store.commit(new Map([["peers/127.0.0.3:4000/bob_1/x.txt", "fine"]]));
  await store.close();
});

Deno.test("a checkpoint writes the files and removes the old journal segments", async (t) => {
  const disk = new MemoryFileSystem();
  const store = await Store.open(disk.view(), ROOT, { clock: new FakeClock(), segmentBytes: 200 });
  for (let i = 0; i < 12; i++) {
    await store.commit(new Map([[`files/${i}.txt`, `value ${i}\n`], ["latest.txt", `${i}\n`]]));
  }
  await settle();

  await t.step("only the newest segment is left", async () => {
    const left = await segments(disk);
    assert.equal(left.length, 1);
    assert.ok(left[0] > "000000000001.log", `still ${left[0]}`);
    assert.ok(store.journalBytes < 200 + 80);
  });
  await t.step("the files hold the checkpointed change sets", async () => {
    assert.equal(await onDisk(disk, "files/0.txt"), "value 0\n");
    assert.equal(await onDisk(disk, "files/5.txt"), "value 5\n");
  });
  await t.step("reads still see every change set", async () => {
    for (let i = 0; i < 12; i++) assert.equal(await store.read(`files/${i}.txt`), `value ${i}\n`);
    assert.equal(await store.read("latest.txt"), "11\n");
  });
  await store.close();
});

Deno.test("a checkpoint also starts a while after a segment's first change", async () => {
  const disk = new MemoryFileSystem();
  const clock = new FakeClock();
  const store = await Store.open(disk.view(), ROOT, { clock, checkpointDelayMs: 2000 });
  assert.equal(clock.pending, 0);
  await store.commit(new Map([["a.txt", "1\n"]]));
  await store.commit(new Map([["b.txt", "2\n"]]));
  assert.equal(clock.pending, 1, "one checkpoint timer for the segment");
  assert.equal(await onDisk(disk, "a.txt"), null);
  clock.advance(1999);
  await settle();
  assert.equal(await onDisk(disk, "a.txt"), null);
  clock.advance(1);
  await settle();
  assert.equal(await onDisk(disk, "a.txt"), "1\n");
  assert.equal(await onDisk(disk, "b.txt"), "2\n");
  assert.deepEqual(await segments(disk), ["000000000002.log"]);
  assert.equal(store.journalBytes, 0);
  assert.equal(clock.pending, 0);
  await store.close();
});

Deno.test("close leaves no journal segment, and the files hold everything", async (t) => {
  const disk = new MemoryFileSystem();
  const clock = new FakeClock();
  const store = await Store.open(disk.view(), ROOT, { clock, segmentBytes: 300 });
  await store.commit(new Map([["keep.txt", "old"], ["gone.txt", "x"]]));
  const last = Array.from({ length: 20 }, (_, i) => store.commit(new Map([["n.txt", `${i}`]])));
  await store.commit(new Map([["keep.txt", "new"], ["gone.txt", null]]));
  await Promise.all(last);
  await store.close();

  await t.step("no segment is left", async () => {
    assert.deepEqual(await segments(disk), []);
    assert.equal(clock.pending, 0, "the checkpoint timer is cancelled");
  });
  await t.step("the files hold the last value of every path", async () => {
    disk.crash();
    assert.equal(await onDisk(disk, "keep.txt"), "new");
    assert.equal(await onDisk(disk, "gone.txt"), null);
    assert.equal(await onDisk(disk, "n.txt"), "19");
  });
  await t.step("later commits are refused", async () => {
    await assert.rejects(store.commit(new Map([["late.txt", "x"]])), StoreFailedError);
  });
});

Deno.test("a commit made while close runs is never acknowledged and then lost", async () => {
  for (let ticks = 0; ticks < 40; ticks++) {
    const disk = new MemoryFileSystem();
    const store = await Store.open(disk.view(), ROOT, { clock: new FakeClock() });
    await store.commit(new Map([["a.txt", "1"]]));
    const closing = store.close();
    for (let i = 0; i < ticks; i++) await Promise.resolve();
    const acknowledged = await store.commit(new Map([["late.txt", "x"]])).then(
      () => true,
      (error) => {
        assert.ok(error instanceof StoreFailedError);
        return false;
      },
    );
    await closing;
    const reopened = await Store.open(disk.view(), ROOT, { clock: new FakeClock() });
    if (acknowledged) {
      assert.equal(await reopened.read("late.txt"), "x", `acknowledged ${ticks} ticks into close`);
    }
    assert.equal(await reopened.read("a.txt"), "1");
    await reopened.close();
  }
});

Deno.test("close cancels the real checkpoint timer", async () => {
  const store = await Store.open(new MemoryFileSystem().view(), ROOT, {
    logger: new Logger({ sink: () => {} }),
  });
  await store.commit(new Map([["a.txt", "1"]]));
  await store.close();
  // The op sanitizer fails this test if the store's two-second timer is still pending.
  assert.equal(await store.read("a.txt"), "1");
});

Deno.test("a read-only store replays the journal in memory and never writes", async () => {
  const disk = new MemoryFileSystem();
  const writer = await Store.open(disk.view(), ROOT, { clock: new FakeClock() });
  await writer.commit(new Map([["a.txt", "journaled"], ["b.txt", "also"]]));
  const before = disk.operations;
  const reader = await Store.open(disk.view(), ROOT, { readOnly: true });
  assert.equal(await reader.read("a.txt"), "journaled");
  assert.equal(await reader.read("b.txt"), "also");
  await assert.rejects(reader.commit(new Map([["c.txt", "x"]])), StoreFailedError);
  await reader.close();
  assert.equal(disk.operations, before, "opening and closing read-only changed nothing");
  await writer.close();
});

Deno.test("after a storage failure every commit is refused", async () => {
  const disk = new MemoryFileSystem();
  const store = await Store.open(disk.view(), ROOT, { clock: new FakeClock() });
  await store.commit(new Map([["a.txt", "1"]]));
  disk.crashAfter(1);
  await assert.rejects(store.commit(new Map([["b.txt", "2"]])), StoreFailedError);
  await assert.rejects(store.commit(new Map([["c.txt", "3"]])), StoreFailedError);
  await assert.rejects(store.flush(), StoreFailedError);
  await assert.rejects(store.close(), StoreFailedError);
});
