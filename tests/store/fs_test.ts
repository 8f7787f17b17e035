/** The real disk behind the FileSystem interface: missing paths are null, not errors. */

import assert from "node:assert/strict";
import { basename, DenoFileSystem, dirname, isDiskFull } from "../../src/store/fs.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("the real disk reads, lists, appends, renames and removes through the interface", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ripple-fs-" });
  const fs = new DenoFileSystem();
  try {
    await t.step("missing paths read and list as null, and removing one is no error", async () => {
      assert.equal(await fs.read(`${dir}/missing`), null);
      assert.equal(await fs.list(`${dir}/missing`), null);
      await fs.remove(`${dir}/missing`);
    });
    await t.step("write, then read and list", async () => {
      assert.deepEqual(await fs.mkdir(`${dir}/a/b`), [`${dir}/a`, `${dir}/a/b`]);
      assert.deepEqual(await fs.mkdir(`${dir}/a/b`), []);
      await fs.write(`${dir}/a/b/f.txt`, bytes("one"), { sync: true });
      await fs.write(`${dir}/a/b/f.txt`, bytes("1"));
      assert.equal(new TextDecoder().decode((await fs.read(`${dir}/a/b/f.txt`))!), "1");
      assert.deepEqual(await fs.list(`${dir}/a`), [{ name: "b", isDirectory: true }]);
    });
    await t.step("append and sync", async () => {
      const file = await fs.openAppend(`${dir}/a/log`);
      try {
        await file.append(bytes("x\n"));
        await file.append(bytes("y\n"));
        await file.append(bytes("half"));
        await file.truncate(4);
        await file.sync();
      } finally {
        file.close();
      }
      assert.equal(await Deno.readTextFile(`${dir}/a/log`), "x\ny\n");
    });
    await t.step("rename over, sync the directory, remove", async () => {
      await fs.rename(`${dir}/a/log`, `${dir}/a/b/f.txt`);
      await fs.syncDir(`${dir}/a/b`);
      assert.equal(await Deno.readTextFile(`${dir}/a/b/f.txt`), "x\ny\n");
      await fs.remove(`${dir}/a/b/f.txt`);
      assert.equal(await fs.read(`${dir}/a/b/f.txt`), null);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("paths split into directory and name on '/'", () => {
  assert.equal(dirname("/r/a/b.txt"), "/r/a");
  assert.equal(dirname("/b.txt"), "/");
  assert.equal(dirname("data"), ".");
  assert.equal(dirname("./data"), ".");
  assert.equal(basename("/r/a/b.txt"), "b.txt");
  assert.equal(basename("b.txt"), "b.txt");
});

Deno.test("a full disk is told apart from every other storage error", () => {
  const error = (code: string) => Object.assign(new Error(code), { code });
  assert.ok(isDiskFull(error("ENOSPC")));
  assert.ok(isDiskFull(error("EDQUOT")));
  assert.ok(!isDiskFull(error("EIO")));
  assert.ok(!isDiskFull(new Deno.errors.PermissionDenied("no")));
  assert.ok(!isDiskFull(null));
});
