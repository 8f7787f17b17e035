/** The in-memory disk behaves like a POSIX one on a crash: only what was fsynced survives. */

import assert from "node:assert/strict";
import { isDiskFull } from "../../src/store/fs.ts";
import { DiskError, MemoryFileSystem, SimulatedCrash } from "../../src/store/memory_fs.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | null) => data === null ? null : new TextDecoder().decode(data);

Deno.test("a file survives a crash only once its data and its directory entry are synced", async (t) => {
  await t.step("neither synced: gone", async () => {
    const disk = new MemoryFileSystem();
    const fs = disk.view();
    await fs.mkdir("/d");
    await fs.write("/d/a", bytes("x"));
    disk.crash();
    assert.equal(await disk.view().read("/d/a"), null);
  });
  await t.step("data synced, entry not: gone", async () => {
    const disk = new MemoryFileSystem();
    const fs = disk.view();
    await fs.mkdir("/d");
    await fs.write("/d/a", bytes("x"), { sync: true });
    disk.crash();
    assert.equal(await disk.view().read("/d/a"), null);
  });
  await t.step("entry synced, data not: present but empty", async () => {
    const disk = new MemoryFileSystem();
    const fs = disk.view();
    await fs.mkdir("/d");
    await fs.write("/d/a", bytes("x"));
    await fs.syncDir("/d");
    disk.crash();
    assert.equal(text(await disk.view().read("/d/a")), "");
  });
  await t.step("both synced: kept", async () => {
    const disk = new MemoryFileSystem();
    const fs = disk.view();
    await fs.mkdir("/d");
    await fs.write("/d/a", bytes("x"), { sync: true });
    await fs.syncDir("/d");
    disk.crash();
    assert.equal(text(await disk.view().read("/d/a")), "x");
  });
});

Deno.test("a rename is lost on a crash until its directory is synced", async () => {
  const disk = new MemoryFileSystem();
  const fs = disk.view();
  await fs.mkdir("/d");
  await fs.write("/d/a", bytes("old"), { sync: true });
  await fs.syncDir("/d");
  await fs.write("/d/b", bytes("new"), { sync: true });
  await fs.rename("/d/b", "/d/a");
  assert.equal(text(await fs.read("/d/a")), "new");
  disk.crash();
  assert.equal(text(await disk.view().read("/d/a")), "old");
});

/** `/j/log` with "one\n" synced and "two\n" appended after it, its entry durable. */
async function logOfTwo(disk: MemoryFileSystem) {
  const fs = disk.view();
  await fs.mkdir("/j");
  const file = await fs.openAppend("/j/log");
  await fs.syncDir("/j");
  await file.append(bytes("one\n"));
  await file.sync();
  await file.append(bytes("two\n"));
  return { fs, file };
}

Deno.test("appended bytes survive a crash only up to the last sync", async () => {
  const disk = new MemoryFileSystem();
  await logOfTwo(disk);
  disk.crash();
  assert.equal(text(await disk.view().read("/j/log")), "one\n");
});

Deno.test("the crash comes on the nth mutating operation and old views fail after it", async () => {
  const disk = new MemoryFileSystem();
  const fs = disk.view();
  await fs.mkdir("/d");
  const before = disk.operations;
  disk.crashAfter(2);
  await fs.write("/d/a", bytes("1"));
  await fs.read("/d/a");
  assert.equal(disk.operations, before + 1, "reads do not count");
  await assert.rejects(fs.write("/d/b", bytes("2")), SimulatedCrash);
  await assert.rejects(fs.read("/d/a"), SimulatedCrash);
  assert.deepEqual(await disk.view().list("/d"), []);
});

Deno.test("a torn crash leaves a prefix of unsynced data, never more", async () => {
  for (const cut of [0, 0.3, 0.99]) {
    const disk = new MemoryFileSystem({ random: () => cut, tornRate: 1 });
    const fs = disk.view();
    await fs.mkdir("/j");
    const file = await fs.openAppend("/j/log");
    await fs.syncDir("/j");
    await file.append(bytes("0123456789"));
    disk.crash();
    const left = text(await disk.view().read("/j/log"))!;
    assert.ok("0123456789".startsWith(left), left);
    assert.equal(left.length, Math.floor(cut * 11));
  }
});

Deno.test("a torn crash never loses bytes an fsync made durable", async () => {
  for (const cut of [0, 0.3, 0.99]) {
    const disk = new MemoryFileSystem({ random: () => cut, tornRate: 1 });
    const fs = disk.view();
    await fs.mkdir("/j");
    const file = await fs.openAppend("/j/log");
    await fs.syncDir("/j");
    await file.append(bytes("synced record\n"));
    await file.sync();
    await file.append(bytes("unsynced\n"));
    disk.crash();
    const left = text(await disk.view().read("/j/log"))!;
    assert.ok(left.startsWith("synced record\n"), `cut ${cut} left ${JSON.stringify(left)}`);
    assert.ok("synced record\nunsynced\n".startsWith(left));
  }
});

Deno.test("mkdir returns the directories it created, outermost first", async () => {
  const fs = new MemoryFileSystem().view();
  assert.deepEqual(await fs.mkdir("/a/b/c"), ["/a", "/a/b", "/a/b/c"]);
  assert.deepEqual(await fs.mkdir("/a/b/d"), ["/a/b/d"]);
  assert.deepEqual(await fs.mkdir("/a/b"), []);
});

Deno.test("the process ending loses nothing, but the views of its life fail", async () => {
  const disk = new MemoryFileSystem();
  const fs = disk.view();
  await fs.mkdir("/d");
  await fs.write("/d/a", bytes("unsynced"));
  disk.kill();
  await assert.rejects(fs.read("/d/a"), SimulatedCrash);
  assert.equal(text(await disk.view().read("/d/a")), "unsynced");
  assert.equal(disk.crashes, 0);
  assert.equal(disk.lives, 1);
});

Deno.test("a write that fails with EIO leaves a part of its data and names the error", async () => {
  const disk = new MemoryFileSystem({ random: () => 0.5, eio: { write: 1 } });
  const fs = disk.view();
  await fs.mkdir("/d");
  const error = await fs.write("/d/a", bytes("0123456789")).catch((e) => e);
  assert.ok(error instanceof DiskError);
  assert.equal(error.code, "EIO");
  assert.ok(isDiskFull(error) === false);
  assert.equal(text(await fs.read("/d/a")), "01234");
  assert.equal(disk.injected.eio, 1);
});

Deno.test("a failed fsync drops the dirty data for good, as Linux does", async (t) => {
  const disk = new MemoryFileSystem();
  const { fs, file } = await logOfTwo(disk);
  disk.eio.sync = 1;
  await assert.rejects(file.sync(), (e: DiskError) => e.code === "EIO");
  disk.eio.sync = 0;
  await t.step("reads still see the data: it is in the page cache", async () => {
    assert.equal(text(await fs.read("/j/log")), "one\ntwo\n");
  });
  await t.step("a retried fsync succeeds, but the dropped bytes are not on disk", async () => {
    await file.append(bytes("three\n"));
    await file.sync();
    disk.crash();
    assert.equal(text(await disk.view().read("/j/log")), "one\n\0\0\0\0three\n");
  });
});

Deno.test("a rename or a directory fsync that fails with EIO leaves the disk as it was", async () => {
  const disk = new MemoryFileSystem({ eio: { rename: 1, syncDir: 1 } });
  const fs = disk.view();
  await fs.mkdir("/d");
  await fs.write("/d/a", bytes("x"), { sync: true });
  await assert.rejects(fs.rename("/d/a", "/d/b"), DiskError);
  assert.deepEqual(disk.paths(), ["/d/a"]);
  await assert.rejects(fs.syncDir("/d"), DiskError);
  disk.crash();
  assert.equal(await disk.view().read("/d/a"), null, "the entry never became durable");
});

Deno.test("writes past the byte budget write what fits, then fail with ENOSPC", async (t) => {
  const disk = new MemoryFileSystem();
  const fs = disk.view();
  await fs.mkdir("/d");
  await fs.write("/d/a", bytes("0123456789"));
  disk.budget = 14;
  await t.step("an append writes four of six bytes", async () => {
    const file = await fs.openAppend("/d/log");
    const error = await file.append(bytes("abcdef")).catch((e) => e);
    assert.ok(isDiskFull(error), String(error));
    assert.equal(text(await fs.read("/d/log")), "abcd");
    assert.equal(disk.used, 14);
    await file.truncate(0);
    assert.equal(disk.used, 10);
  });
  await t.step("rewriting a file frees its old bytes first", async () => {
    await fs.write("/d/a", bytes("0123456789abcd"));
    await assert.rejects(fs.write("/d/b", bytes("x")), (e: DiskError) => e.code === "ENOSPC");
  });
  await t.step("removing a file, or renaming one over it, makes room", async () => {
    await fs.remove("/d/b");
    await fs.write("/d/c", bytes(""));
    await fs.rename("/d/c", "/d/a");
    assert.equal(disk.used, 0);
    await fs.write("/d/b", bytes("fits"));
    assert.equal(disk.injected.enospc, 2);
  });
});

Deno.test("with unsynced directories lost, a crash takes a new directory and all in it", async (t) => {
  for (const parentSynced of [false, true]) {
    await t.step(
      parentSynced ? "its parent fsynced: kept" : "its parent not fsynced: lost",
      async () => {
        const disk = new MemoryFileSystem({ loseUnsyncedDirs: true });
        const fs = disk.view();
        await fs.mkdir("/d");
        await fs.syncDir("/");
        await fs.mkdir("/d/new/deeper");
        await fs.write("/d/new/deeper/f", bytes("x"), { sync: true });
        await fs.syncDir("/d/new/deeper");
        await fs.syncDir("/d/new");
        if (parentSynced) await fs.syncDir("/d");
        disk.crash();
        const after = disk.view();
        assert.equal(text(await after.read("/d/new/deeper/f")), parentSynced ? "x" : null);
        assert.deepEqual(
          await after.list("/d"),
          parentSynced ? [{ name: "new", isDirectory: true }] : [],
        );
      },
    );
  }
});
