/** A change set being built: its reads see its own writes, and nothing reaches the store before commit. */

import assert from "node:assert/strict";
import { MemoryFileSystem } from "../../src/store/memory_fs.ts";
import { Store } from "../../src/store/store.ts";
import { Tx } from "../../src/store/tx.ts";
import { FakeClock } from "../_fake_clock.ts";

Deno.test("a change set sees its own writes and the store sees none until it is committed", async (t) => {
  const store = await Store.open(new MemoryFileSystem().view(), "/r", { clock: new FakeClock() });
  await store.commit(new Map([["d/old", "1\n"], ["d/kept", "k"]]));
  const tx = new Tx(store);
  tx.setNumber("d/new", 42n);
  tx.set("d/old", null);

  await t.step("the change set's reads", async () => {
    assert.equal(await tx.get("d/new"), "42\n");
    assert.equal(await tx.get("d/old"), undefined);
    assert.equal(await tx.get("d/kept"), "k");
    assert.deepEqual(await tx.list("d"), ["kept", "new"]);
  });
  await t.step("the store's reads before commit", async () => {
    assert.equal(await store.read("d/new"), undefined);
    assert.equal(await store.read("d/old"), "1\n");
  });
  await t.step("the store's reads after commit", async () => {
    await store.commit(tx.changes);
    assert.equal(await store.read("d/new"), "42\n");
    assert.equal(await store.read("d/old"), undefined);
  });
  await store.close();
});

Deno.test("numbers are read as decimal text, with a fallback for a missing file", async () => {
  const store = await Store.open(new MemoryFileSystem().view(), "/r", { clock: new FakeClock() });
  const tx = new Tx(store);
  assert.equal(await tx.getBigint("missing"), 0n);
  assert.equal(await tx.getNumber("missing", 7), 7);
  tx.set("balance", "-18446744073709551615\n");
  assert.equal(await tx.getBigint("balance"), -18446744073709551615n);
  tx.setNumber("counter", 5);
  assert.equal(await tx.getNumber("counter"), 5);
  for (const bad of ["", "1.5\n", "0x10\n", "12a\n", "--1\n"]) {
    tx.set("bad", bad);
    await assert.rejects(tx.getBigint("bad"), /does not hold a number/, JSON.stringify(bad));
  }
  await store.close();
});
