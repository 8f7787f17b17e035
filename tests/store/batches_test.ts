/** Many changed files: checkpoints write them in batches, and a stop or a start leaves them to the journal instead of writing them all. */

import assert from "node:assert/strict";
import { MemoryFileSystem } from "../../src/store/memory_fs.ts";
import { Store } from "../../src/store/store.ts";
import { FakeClock, settle } from "../_fake_clock.ts";

const ROOT = "/data/ripple";
const decoder = new TextDecoder();
const FILES = 10;

async function onDisk(disk: MemoryFileSystem, path: string): Promise<string | null> {
  const bytes = await disk.view().read(`${ROOT}/${path}`);
  return bytes === null ? null : decoder.decode(bytes);
}

async function segments(disk: MemoryFileSystem): Promise<number> {
  const entries = (await disk.view().list(`${ROOT}/journal`)) ?? [];
  return entries.filter((entry) => entry.name.endsWith(".log")).length;
}

async function changeMany(store: Store): Promise<void> {
  for (let i = 0; i < FILES; i++) await store.commit(new Map([[`f/${i}.txt`, `${i}\n`]]));
}

Deno.test("a stop with more files than a batch in the journal leaves them to the next start", async (t) => {
  const disk = new MemoryFileSystem();
  const clock = new FakeClock();
  const options = { clock, batchFiles: 4, checkpointDelayMs: 2000 };
  const store = await Store.open(disk.view(), ROOT, options);
  await changeMany(store);
  await store.close();

  await t.step("the files are not written, the journal is kept", async () => {
    assert.equal(await onDisk(disk, "f/0.txt"), null);
    assert.equal(await segments(disk), 1);
  });
  disk.crash();
  const reopened = await Store.open(disk.view(), ROOT, options);
  await t.step("a start after a crash serves them from the journal, writing none", async () => {
    for (let i = 0; i < FILES; i++) assert.equal(await reopened.read(`f/${i}.txt`), `${i}\n`);
    assert.equal(await onDisk(disk, "f/0.txt"), null);
  });
  await t.step("its first checkpoint writes them all and drops the old segment", async () => {
    clock.advance(2000);
    await settle();
    await reopened.flush();
    await settle();
    for (let i = 0; i < FILES; i++) assert.equal(await onDisk(disk, `f/${i}.txt`), `${i}\n`);
    assert.equal(await segments(disk), 1, "only the segment opened at the start");
  });
  await reopened.close();
});

Deno.test("a stop with at most a batch of files writes them and leaves no journal", async () => {
  const disk = new MemoryFileSystem();
  const store = await Store.open(disk.view(), ROOT, { clock: new FakeClock(), batchFiles: 16 });
  await changeMany(store);
  await store.close();
  disk.crash();
  assert.equal(await onDisk(disk, "f/9.txt"), "9\n");
  assert.equal(await segments(disk), 0);
});
