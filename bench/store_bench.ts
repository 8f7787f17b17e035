/** Storage writes on the real disk: one durable file replacement, and store commits (journal append and fdatasync). */

import { writeDurable } from "../src/store/durable.ts";
import { DenoFileSystem } from "../src/store/fs.ts";
import { Store } from "../src/store/store.ts";

const dir = await Deno.makeTempDir({ prefix: "ripple-bench-store-" });
// Deno.bench has no teardown; unload runs once every bench of this file is done.
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const fs = new DenoFileSystem();
const store = await Store.open(fs, `${dir}/ripple`);
let counter = 0;

/** The change set of a set-trustline command: client counter, amount, trustline counter. */
function setTrustlineChanges(account: string): Map<string, string> {
  counter++;
  const peer = `accounts/${account}/peers/127.0.0.3/bob`;
  return new Map([
    [`accounts/${account}/counter.txt`, `${counter}\n`],
    [`${peer}/trustline_out.txt`, `${counter * 10}\n`],
    [`${peer}/counter.txt`, `${counter}\n`],
  ]);
}

Deno.bench("writeDurable one small file (temp, fdatasync, rename, fsync dir)", {
  group: "storage",
  baseline: true,
}, async () => {
  await writeDurable(fs, `${dir}/durable/counter.txt`, `${++counter}\n`);
});

Deno.bench("Store.commit a 3-file change set and wait until durable", {
  group: "storage",
}, async () => {
  await store.commit(setTrustlineChanges("alice"));
});

const ACCOUNTS = Array.from({ length: 16 }, (_, i) => `user${i}`);

Deno.bench("16 concurrent Store.commit change sets (one group commit)", {
  group: "storage",
}, async () => {
  await Promise.all(ACCOUNTS.map((account) => store.commit(setTrustlineChanges(account))));
});
