/** The outbound lanes: a datagram made obsolete by a newer one of the same command is not sent. */

import assert from "node:assert/strict";
import { WebCryptoMac } from "../../src/auth/hmac.ts";
import { generateKey } from "../../src/auth/keys.ts";
import { silentLogger } from "../../src/core/log.ts";
import { Sender } from "../../src/server/sender.ts";
import { addPeer, createAccount } from "../../src/store/accounts.ts";
import { MemoryFileSystem } from "../../src/store/memory_fs.ts";
import { Store } from "../../src/store/store.ts";
import { getTrustlineArgs, setTrustlineArgs } from "../../src/wire/arguments.ts";
import { ServerCommand } from "../../src/wire/commands.ts";
import { decodeDatagram } from "../../src/wire/datagram.ts";
import type { AccountRef } from "../../src/wire/names.ts";

const bob: AccountRef = { username: "bob", address: "b.test" };

Deno.test("a trustline still waiting in its lane is dropped for a newer one; other commands keep their place", async () => {
  const disk = new MemoryFileSystem();
  await createAccount(disk.view(), "/data/ripple", "alice", generateKey());
  await addPeer(disk.view(), "/data/ripple", "alice", bob, generateKey());
  const store = await Store.open(disk.view(), "/data/ripple");
  const sent: { command: number; args: Uint8Array }[] = [];
  let release = () => {};
  const firstTaken = new Promise<void>((resolve) => release = resolve);
  const sender = new Sender({
    store,
    transport: {
      send: async (_address, bytes) => {
        const datagram = decodeDatagram(bytes);
        sent.push({ command: datagram.command, args: datagram.arguments });
        // The peer's server takes the first datagram only once the others are queued.
        if (sent.length === 1) await firstTaken;
      },
    },
    mac: new WebCryptoMac(),
    address: "a.test",
    logger: silentLogger,
    maxQueue: 16,
    superseding: new Set([ServerCommand.SetTrustline]),
  });
  const trustline = (counter: number) => ({
    to: bob,
    command: ServerCommand.SetTrustline,
    args: setTrustlineArgs.encode({ amount: BigInt(counter * 10), counter }),
  });
  const ask = {
    to: bob,
    command: ServerCommand.GetTrustline,
    args: getTrustlineArgs.encode({ syncIn: 0 }),
  };
  sender.send("alice", trustline(1));
  while (sent.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  sender.send("alice", trustline(2));
  sender.send("alice", trustline(3));
  sender.send("alice", ask);
  sender.send("alice", trustline(4));
  assert.equal(sender.queued, 2, "the 129 and the newest trustline wait; 2 and 3 are gone");
  release();
  while (sender.queued > 0 || sent.length < 3) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await sender.close();
  const shown = sent.map(({ command, args }) =>
    command === ServerCommand.SetTrustline
      ? `128 c=${setTrustlineArgs.decode(args).counter}`
      : `${command}`
  );
  assert.deepEqual(shown, ["128 c=1", "129", "128 c=4"]);
  await store.close();
});
