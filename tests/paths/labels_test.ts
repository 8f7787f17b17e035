import assert from "node:assert/strict";
import type { Context } from "../../src/core/context.ts";
import { silentLogger } from "../../src/core/log.ts";
import {
  Ask,
  coordinateCost,
  decodeLabel,
  encodeLabel,
  labelDistance,
  LabelTable,
  NARROW_BIT,
} from "../../src/paths/labels.ts";
import { MemoryFileSystem } from "../../src/store/memory_fs.ts";
import { peerPath } from "../../src/store/paths.ts";
import { Store } from "../../src/store/store.ts";
import { Tx } from "../../src/store/tx.ts";
import { labelArgs } from "../../src/wire/arguments.ts";
import { ServerCommand } from "../../src/wire/commands.ts";
import { type AccountRef, formatAccountRef } from "../../src/wire/names.ts";
import { FakeClock } from "../_fake_clock.ts";

function context(username: string): Context & { sent: number } {
  return {
    username,
    now: 0,
    tx: null as unknown as Tx,
    log: silentLogger,
    sent: 0,
    send() {
      this.sent++;
    },
    wakeAt() {},
  };
}

const b = { username: "b", address: "s2.test" };
const c = { username: "c", address: "s3.test" };

Deno.test("an account takes the neighbour nearest the least root as its parent, never one below it", () => {
  const table = new LabelTable(1, "s1.test");
  const ctx = context("a");
  const mine = table.label("a")[0]!;
  // b is one hop from a root that bids lower than a's own: a becomes b's child.
  const root = Math.max(1, mine.root - 1);
  table.heard(ctx, b, [{ root, coordinate: [5] }], [9], Ask.None);
  assert.deepEqual(table.label("a"), [{ root, coordinate: [5, 9] }]);
  // c is below a (its coordinate starts with a's). When b moves further from the root, c
  // offers the shorter way, but taking it would be a loop: a stays under b.
  table.heard(ctx, c, [{ root, coordinate: [5, 9, 1] }], [2], Ask.None);
  table.heard(ctx, b, [{ root, coordinate: [6, 3, 3, 3] }], [9], Ask.None);
  assert.deepEqual(table.label("a"), [{ root, coordinate: [6, 3, 3, 3, 9] }]);
  // Once c is truly nearer the root, a moves under it.
  table.heard(ctx, c, [{ root, coordinate: [] }], [4], Ask.None);
  assert.deepEqual(table.label("a"), [{ root, coordinate: [4] }]);
});

Deno.test("labels survive their bytes, and distance counts hops through the deepest common ancestor", () => {
  const label = [{ root: 7, coordinate: [1, 2, 3] }, null, { root: 9, coordinate: [] }];
  assert.deepEqual(decodeLabel(encodeLabel(label)), label);
  assert.equal(labelDistance(label, [{ root: 7, coordinate: [1, 5] }]), 3);
  assert.equal(labelDistance(label, [{ root: 8, coordinate: [1, 2, 3] }]), Infinity);
  // The least over the trees, or over those of a mask (bit t: tree t).
  const other = [{ root: 7, coordinate: [4] }, null, { root: 9, coordinate: [6] }];
  assert.equal(labelDistance(label, other), 1);
  assert.equal(labelDistance(label, other, 0b001), 4);
  assert.equal(labelDistance(label, other, 0b010), Infinity);
});

Deno.test("a peer added while the server runs is greeted, and asked for its label, once it is first heard from", async (t) => {
  const store = await Store.open(new MemoryFileSystem().view(), "/r", { clock: new FakeClock() });
  const addPeer = (peer: AccountRef) =>
    store.commit(new Map([[peerPath("a", peer, "secretkey.txt"), "00".repeat(32) + "\n"]]));
  const table = new LabelTable(3, "s1.test");
  const sent: { to: string; ask: number }[] = [];
  let now = 0;
  const ctx = (): Context => ({
    username: "a",
    now,
    tx: new Tx(store),
    log: silentLogger,
    send(to, command, args) {
      assert.equal(command, ServerCommand.Label);
      sent.push({ to: formatAccountRef(to), ask: labelArgs.decode(args).ask });
    },
    wakeAt() {},
  });
  await addPeer(b);
  await t.step("the start asks the peers it lists, and answers the first to answer", async () => {
    await table.wake(ctx());
    assert.deepEqual(sent.splice(0), [{ to: "b@s2.test", ask: Ask.Started }]);
    // b is nearer a lower root: a's label changes, and b hears it.
    const root = table.label("a")[0]!.root - 1;
    table.heard(ctx(), b, [{ root, coordinate: [] }, null, null], [3, 0, 0], Ask.None);
    now += 1_000;
    await table.wake(ctx());
    assert.deepEqual(sent.splice(0), [{ to: "b@s2.test", ask: Ask.None }]);
  });
  await addPeer(c);
  await t.step("a peer already greeted is not greeted again", async () => {
    table.met(ctx(), b);
    now += 1_000;
    await table.wake(ctx());
    assert.deepEqual(sent.splice(0), []);
  });
  await t.step(
    "the new peer's first datagram gets it a greeting that asks for its label",
    async () => {
      table.met(ctx(), c);
      now += 1_000;
      await table.wake(ctx());
      assert.deepEqual(sent.splice(0), [{ to: "c@s3.test", ask: Ask.Answer }]);
    },
  );
  await t.step(
    "its answer counts in the trees, and a later datagram from it greets nobody",
    async () => {
      const root = table.label("a")[0]!.root - 1;
      table.heard(ctx(), c, [{ root, coordinate: [] }, null, null], [5, 0, 0], Ask.None);
      assert.deepEqual(table.label("a")[0], { root, coordinate: [5] });
      now += 1_000;
      await table.wake(ctx());
      // a's label changed: both peers hear it; neither is asked for its label again.
      assert.deepEqual(sent.splice(0), [
        { to: "b@s2.test", ask: Ask.None },
        { to: "c@s3.test", ask: Ask.None },
      ]);
      table.met(ctx(), c);
      now += 1_000;
      await table.wake(ctx());
      assert.deepEqual(sent.splice(0), []);
    },
  );
  await store.close();
});

Deno.test("a tree prefers a longer way over wide edges to a shorter one over a narrow edge", () => {
  const table = new LabelTable(1, "s1.test");
  const ctx = context("a");
  const root = Math.max(1, table.label("a")[0]!.root - 1);
  // b offers 2 hops over a narrow edge (its index carries the narrow bit): cost 1 + 4.
  table.heard(ctx, b, [{ root, coordinate: [5] }], [NARROW_BIT | 9], Ask.None);
  assert.deepEqual(table.label("a"), [{ root, coordinate: [5, NARROW_BIT | 9] }]);
  assert.equal(coordinateCost(table.label("a")[0]!.coordinate), 5);
  // c offers 4 hops over wide edges, cost 4: cheaper, so a moves under c.
  table.heard(ctx, c, [{ root, coordinate: [1, 2, 3] }], [4], Ask.None);
  assert.deepEqual(table.label("a"), [{ root, coordinate: [1, 2, 3, 4] }]);
  // One hop more (cost 5 against b's 5): the tie goes to the least name, b.
  table.heard(ctx, c, [{ root, coordinate: [1, 2, 3, 6] }], [4], Ask.None);
  assert.deepEqual(table.label("a"), [{ root, coordinate: [5, NARROW_BIT | 9] }]);
});

Deno.test("an account marks the index it gives a peer narrow by their trustlines, and sends it again when that changes", async () => {
  const store = await Store.open(new MemoryFileSystem().view(), "/r", { clock: new FakeClock() });
  const trust = (out: number, into: number) =>
    store.commit(
      new Map([
        [peerPath("a", b, "secretkey.txt"), "00".repeat(32) + "\n"],
        [peerPath("a", b, "trustline_out.txt"), `${out}\n`],
        [peerPath("a", b, "trustline_in.txt"), `${into}\n`],
      ]),
    );
  await trust(100, 10);
  const table = new LabelTable(1, "s1.test");
  const sent: number[] = [];
  let now = 0;
  const ctx = (): Context => ({
    username: "a",
    now,
    tx: new Tx(store),
    log: silentLogger,
    send(_to, _command, args) {
      sent.push(labelArgs.decode(args).index0);
    },
    wakeAt() {},
  });
  await table.wake(ctx());
  // b answers the greeting: a's label goes to b with the index, narrow (b trusts a for 10).
  table.heard(ctx(), b, [{ root: 1, coordinate: [] }], [3], Ask.None);
  now += 1_000;
  await table.wake(ctx());
  assert.equal(sent.length, 2);
  assert.equal(sent[1] & NARROW_BIT, NARROW_BIT);
  // A datagram that changes nothing costs nothing.
  table.met(ctx(), b);
  now += 1_000;
  await table.wake(ctx());
  assert.equal(sent.length, 2);
  // b raises its trustline to 50: at b's next datagram a sends the index again, wide.
  await trust(100, 50);
  table.met(ctx(), b);
  table.met(ctx(), b);
  now += 1_000;
  await table.wake(ctx());
  assert.equal(sent.length, 3);
  assert.equal(sent[2] & NARROW_BIT, 0);
  assert.equal(sent[2], sent[1] & ~NARROW_BIT, "the same hash, without the bit");
  await store.close();
});
