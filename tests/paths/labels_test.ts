import assert from "node:assert/strict";
import type { Context } from "../../src/core/context.ts";
import { silentLogger } from "../../src/core/log.ts";
import {
  Ask,
  decodeLabel,
  encodeLabel,
  labelDistance,
  LabelTable,
} from "../../src/paths/labels.ts";
import type { Tx } from "../../src/store/tx.ts";

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
