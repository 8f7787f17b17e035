import assert from "node:assert/strict";
import { toHex } from "../../src/auth/keys.ts";
import * as api from "../../src/client/commands.ts";
import { readPayment } from "../../src/payments/record.ts";
import { readBooks } from "../../src/store/books.ts";
import { paymentsDir } from "../../src/store/paths.ts";
import { Tx } from "../../src/store/tx.ts";
import { abortArgs, paymentArgs } from "../../src/wire/arguments.ts";
import { ServerCommand } from "../../src/wire/commands.ts";
import type { AccountRef } from "../../src/wire/names.ts";
import { eventually, LocalNetwork } from "../support/local_network.ts";

Deno.test("step messages for an unknown payment, from a neighbour off its path, or for another amount change nothing at the hop", async (t) => {
  await using net = new LocalNetwork();
  const [a, b, c] = ["a", "b", "c"].map((username, i) => ({ username, address: `s${i + 1}.test` }));
  const d = { username: "d", address: c.address };
  for (const account of [a, b, c]) await net.start(account.address);
  for (const account of [a, b, c, d]) await net.account(account);
  await net.peers(a, b);
  await net.peers(b, c);
  await net.peers(b, d);
  await api.setTrustline(net.client(b), a, 100n);
  await api.setTrustline(net.client(c), b, 100n);
  await eventually(async () =>
    (await api.getTrustlineIn(net.client(b), c)).amount === 100n || undefined
  );
  await eventually(async () =>
    (await api.getTrustlineIn(net.client(a), b)).amount === 100n || undefined
  );

  // b's lock never reaches c, so the payment stays in flight at b.
  net.drop = (from, to, bytes) =>
    from === b.address && to === c.address && bytes[0] === ServerCommand.Lock;
  const id = crypto.getRandomValues(new Uint8Array(32));
  const idHex = toHex(id);
  await api.newPaymentIn(net.client(c), a, id, 30n);
  await api.newPaymentOut(net.client(a), c, id, 30n);
  const bNode = net.servers.get(b.address)!.node;
  const state = async () => {
    const tx = new Tx(bNode.store);
    return {
      record: await readPayment(tx, b.username, idHex),
      withA: await readBooks(tx, b.username, a),
      withC: await readBooks(tx, b.username, c),
      inFlight: await tx.list(paymentsDir(b.username)),
      ended: await tx.list(paymentsDir(b.username, true)),
    };
  };
  await eventually(async () => (await state()).record?.state === "locking" || undefined);
  const before = await state();
  assert.equal(before.withA.lockedIn, 30n);

  const logs = net.servers.get(b.address)!.logs;
  const attack = async (
    name: string,
    from: AccountRef,
    command: number,
    args: Uint8Array,
    event: string,
  ) => {
    await t.step(name, async () => {
      const seen = logs.length;
      await bNode.receive(await net.forge(from, b, command, args));
      await bNode.store.barrier();
      assert.deepEqual(await state(), before, "nothing changed at b");
      assert.ok(logs.slice(seen).some((line) => line.includes(event)), `logged ${event}`);
    });
  };
  const other = crypto.getRandomValues(new Uint8Array(32));
  await attack(
    "a commit from the downstream, not the upstream",
    c,
    ServerCommand.Commit,
    paymentArgs.encode({ id, amount: 30n }),
    "payment-mismatch",
  );
  await attack(
    "a commit for another amount",
    a,
    ServerCommand.Commit,
    paymentArgs.encode({ id, amount: 31n }),
    "payment-mismatch",
  );
  await attack(
    "a finalize before the commit, from the downstream",
    c,
    ServerCommand.Finalize,
    paymentArgs.encode({ id, amount: 30n }),
    "payment-mismatch",
  );
  await attack(
    "a commit for an unknown payment",
    a,
    ServerCommand.Commit,
    paymentArgs.encode({ id: other, amount: 30n }),
    "payment-unknown",
  );
  await attack(
    "a finalize for an unknown payment",
    a,
    ServerCommand.Finalize,
    paymentArgs.encode({ id: other, amount: 30n }),
    "payment-unknown",
  );
  await attack(
    "an abort from a neighbour off the path",
    d,
    ServerCommand.Abort,
    abortArgs.encode({ id, amount: 30n, reason: 5 }),
    "payment-mismatch",
  );
  await attack(
    "a lock along a path no search prepared",
    d,
    ServerCommand.Lock,
    paymentArgs.encode({ id: other, amount: 30n }),
    "lock-refused",
  );

  await t.step(
    "a commit after the lock expired finds the payment failed and its locks released",
    async () => {
      const failed = await eventually(async () => {
        const now = await state();
        return now.record?.state === "failed" ? now : undefined;
      });
      assert.equal(failed.record!.reason, 4);
      assert.equal(failed.withA.lockedIn + failed.withC.lockedOut, 0n);
      await bNode.receive(
        await net.forge(a, b, ServerCommand.Commit, paymentArgs.encode({ id, amount: 30n })),
      );
      await bNode.store.barrier();
      assert.deepEqual(await state(), failed);
    },
  );
});
