/** Deferred change sets (a read's counter): visible at once, batched into the journal, ordered before later commits. */

import assert from "node:assert/strict";
import { createAccount } from "../../src/store/accounts.ts";
import { MemoryFileSystem } from "../../src/store/memory_fs.ts";
import { Store } from "../../src/store/store.ts";
import { FakeClock, settle } from "../_fake_clock.ts";
import { WatchedFileSystem } from "./_watched_fs.ts";

const ROOT = "/data/ripple";
const COUNTER = "accounts/alice/counter.txt";

Deno.test("deferred change sets are read at once and reach the journal together after the delay", async (t) => {
  const clock = new FakeClock();
  const disk = new MemoryFileSystem();
  const watched = new WatchedFileSystem(disk.view());
  const store = await Store.open(watched, ROOT, { clock, deferMs: 50 });
  const durable: number[] = [];
  for (let i = 1; i <= 3; i++) {
    store.commitDeferred(new Map([[COUNTER, `${i}\n`]])).then(() => durable.push(i));
  }

  await t.step("reads see the last one, and nothing was written", async () => {
    assert.equal(await store.read(COUNTER), "3\n");
    await settle();
    assert.equal(watched.syncs, 0);
    assert.deepEqual(durable, []);
  });
  await t.step("a barrier does not wait for them", async () => {
    await store.barrier();
    assert.equal(watched.syncs, 0);
  });
  await t.step("after the delay, one fsync makes all three durable", async () => {
    clock.advance(50);
    await store.flush();
    await settle();
    assert.equal(watched.syncs, 1);
    assert.deepEqual(durable, [1, 2, 3]);
  });
  await store.close();
});

Deno.test("an ordinary commit takes the deferred ones before it with it, in order", async () => {
  const clock = new FakeClock();
  const disk = new MemoryFileSystem();
  const watched = new WatchedFileSystem(disk.view());
  const store = await Store.open(watched, ROOT, { clock, deferMs: 50 });
  let deferredDurable = false;
  store.commitDeferred(new Map([[COUNTER, "4\n"]])).then(() => deferredDurable = true);
  await store.commit(new Map([[COUNTER, "5\n"]]));
  assert.equal(deferredDurable, true);
  assert.equal(watched.syncs, 1);
  // A crash now: the journal replays both, in order, so the later counter wins.
  disk.crash();
  const reopened = await Store.open(disk.view(), ROOT, { clock });
  assert.equal(await reopened.read(COUNTER), "5\n");
  await reopened.close();
});

Deno.test("a crash before the delay loses deferred change sets but nothing ordinary", async () => {
  const clock = new FakeClock();
  const disk = new MemoryFileSystem();
  const store = await Store.open(disk.view(), ROOT, { clock, deferMs: 50 });
  await store.commit(new Map([[COUNTER, "1\n"]]));
  store.commitDeferred(new Map([[COUNTER, "2\n"]]));
  assert.equal(await store.read(COUNTER), "2\n");
  disk.crash();
  const reopened = await Store.open(disk.view(), ROOT, { clock });
  assert.equal(await reopened.read(COUNTER), "1\n");
  await reopened.close();
});

Deno.test("too many deferred change sets start the journal write without waiting", async () => {
  const clock = new FakeClock();
  const watched = new WatchedFileSystem(new MemoryFileSystem().view());
  const store = await Store.open(watched, ROOT, { clock, deferMs: 50, deferLimit: 4 });
  const all = [];
  for (let i = 1; i <= 4; i++) all.push(store.commitDeferred(new Map([[COUNTER, `${i}\n`]])));
  await Promise.all(all);
  assert.equal(watched.syncs, 1);
  await store.close();
});

Deno.test("closing makes deferred change sets durable", async () => {
  const clock = new FakeClock();
  const disk = new MemoryFileSystem();
  const store = await Store.open(disk.view(), ROOT, { clock, deferMs: 50 });
  store.commitDeferred(new Map([[COUNTER, "9\n"]]));
  await store.close();
  disk.crash();
  const reopened = await Store.open(disk.view(), ROOT, { clock });
  assert.equal(await reopened.read(COUNTER), "9\n");
  await reopened.close();
});

Deno.test("a missing file is read from the disk once", async () => {
  const watched = new CountingReads(new MemoryFileSystem().view());
  const store = await Store.open(watched, ROOT, { clock: new FakeClock() });
  const path = "accounts/alice/peers/b.example/bob/balance.txt";
  for (let i = 0; i < 3; i++) assert.equal(await store.read(path), undefined);
  assert.equal(watched.readsOf(path), 1);
  await store.commit(new Map([[path, "7\n"]]));
  assert.equal(await store.read(path), "7\n", "a commit replaces what was remembered missing");
  await store.close();
});

Deno.test("an account another process adds is seen, with the files it wrote beside the key", async () => {
  const disk = new MemoryFileSystem();
  const watched = new CountingReads(disk.view());
  const store = await Store.open(watched, ROOT, { clock: new FakeClock() });
  const key = "accounts/carol/secretkey.txt";
  assert.equal(await store.read(key), undefined);
  assert.equal(await store.read("accounts/carol/counter.txt"), undefined);
  await createAccount(disk.view(), ROOT, "carol", new Uint8Array(32));
  await disk.view().write(
    `${ROOT}/accounts/carol/counter.txt`,
    new TextEncoder().encode("3\n"),
  );
  assert.equal(await store.read(key), `${"00".repeat(32)}\n`, "a missing key is not remembered");
  assert.equal(
    await store.read("accounts/carol/counter.txt"),
    "3\n",
    "finding the key forgets what was remembered missing beside it",
  );
  await store.close();
});

/** Counts reads per path. */
class CountingReads extends WatchedFileSystem {
  #reads = new Map<string, number>();

  override read(path: string): Promise<Uint8Array | null> {
    this.#reads.set(path, (this.#reads.get(path) ?? 0) + 1);
    return super.read(path);
  }

  readsOf(path: string): number {
    return this.#reads.get(`${ROOT}/${path}`) ?? 0;
  }
}
