/** Creating accounts and peers in a datadir, as `ripple account add` and `ripple peer add` do. */

import assert from "node:assert/strict";
import { toHex } from "../../src/auth/keys.ts";
import { AccountError, addPeer, createAccount } from "../../src/store/accounts.ts";
import { MemoryFileSystem } from "../../src/store/memory_fs.ts";

const ROOT = "/data/ripple";
const key = Uint8Array.from({ length: 32 }, (_, i) => i);
const bob = { username: "bob", address: "127.0.0.3" };

async function text(disk: MemoryFileSystem, path: string): Promise<string | null> {
  const bytes = await disk.view().read(`${ROOT}/${path}`);
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

Deno.test("an account and its peer are created durably, each only once", async (t) => {
  const disk = new MemoryFileSystem();
  await t.step("the account", async () => {
    await createAccount(disk.view(), ROOT, "alice", key);
    disk.crash();
    assert.equal(await text(disk, "accounts/alice/secretkey.txt"), `${toHex(key)}\n`);
    assert.equal(await text(disk, "accounts/alice/counter.txt"), "0\n");
    await assert.rejects(createAccount(disk.view(), ROOT, "alice", key), AccountError);
  });
  await t.step("the peer", async () => {
    await addPeer(disk.view(), ROOT, "alice", bob, key);
    disk.crash();
    const dir = "accounts/alice/peers/127.0.0.3/bob";
    assert.equal(await text(disk, `${dir}/secretkey.txt`), `${toHex(key)}\n`);
    assert.equal(await text(disk, `${dir}/counter_in.txt`), "0\n");
    assert.equal(await text(disk, `${dir}/counter_out.txt`), "0\n");
    await assert.rejects(addPeer(disk.view(), ROOT, "alice", bob, key), AccountError);
  });
  await t.step("a peer of an account that does not exist", async () => {
    await assert.rejects(addPeer(disk.view(), ROOT, "nobody", bob, key), AccountError);
    assert.equal(await text(disk, "accounts/nobody/peers/127.0.0.3/bob/secretkey.txt"), null);
  });
});
