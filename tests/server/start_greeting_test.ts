/** After a start, the accounts with peers are woken for their label greeting; those without are only listed. */

import assert from "node:assert/strict";
import { generateKey } from "../../src/auth/keys.ts";
import { Logger } from "../../src/core/log.ts";
import { Node } from "../../src/server/node.ts";
import { addPeer, createAccount } from "../../src/store/accounts.ts";
import { MemoryFileSystem } from "../../src/store/memory_fs.ts";
import { decodeDatagram } from "../../src/wire/datagram.ts";
import { eventually } from "../support/local_network.ts";

Deno.test("a start greets the peers of every account that has some, and wakes no account without", async () => {
  const disk = new MemoryFileSystem();
  const root = "/data/ripple";
  const lonely = ["lonely1", "lonely2", "lonely3"];
  for (const name of lonely) await createAccount(disk.view(), root, name, generateKey());
  for (const name of ["alice", "zoe"]) {
    await createAccount(disk.view(), root, name, generateKey());
    await addPeer(disk.view(), root, name, { username: "bob", address: "b.test" }, generateKey());
  }
  const lines: string[] = [];
  const greeted = new Set<string>();
  const node = await Node.open({
    fs: disk.view(),
    datadir: "/data",
    address: "a.test",
    logger: new Logger({ level: "debug", sink: (line) => lines.push(line) }),
    transport: {
      send: (_address, bytes) => {
        greeted.add(decodeDatagram(bytes).peerUsername);
        return Promise.resolve();
      },
    },
  });
  try {
    await eventually(() => Promise.resolve(greeted.size === 2 ? greeted : undefined));
    // A wake of an account without peers would have been scheduled before zoe's: let it finish.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual([...greeted].sort(), ["alice", "zoe"]);
    const woken = lines.filter((l) => l.includes("datagram-handled") && l.includes("command=wake"));
    for (const name of lonely) {
      assert.ok(!woken.some((l) => new RegExp(`\\baccount=${name}\\b`).test(l)), name);
    }
    assert.ok(woken.some((l) => l.includes("account=alice")));
  } finally {
    await node.close();
  }
});
