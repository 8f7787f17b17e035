/** The in-memory disk behaves like a POSIX one on a crash: only what was fsynced survives. */

import assert from "node:assert/strict";
import { MemoryFileSystem, SimulatedCrash } from "../../src/store/memory_fs.ts";

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

Deno.test("appended bytes survive a crash only up to the last sync", async () => {
  const disk = new MemoryFileSystem();
  const fs = disk.view();
  await fs.mkdir("/j");
  const file = await fs.openAppend("/j/log");
  await fs.syncDir("/j");
  await file.append(bytes("one\n"));
  await file.sync();
  await file.append(bytes("two\n"));
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
