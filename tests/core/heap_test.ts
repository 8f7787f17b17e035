import assert from "node:assert/strict";
import { MinHeap } from "../../src/core/heap.ts";
import { Random } from "../../src/sim/random.ts";

Deno.test("a heap gives its items back in order, whatever the order they went in", () => {
  const random = new Random(9);
  const heap = new MinHeap<number>((a, b) => a < b);
  const model: number[] = [];
  for (let step = 0; step < 5_000; step++) {
    if (model.length > 0 && random.chance(0.4)) {
      model.sort((a, b) => a - b);
      assert.equal(heap.peek(), model[0]);
      assert.equal(heap.pop(), model.shift());
    } else {
      const item = random.int(100);
      heap.push(item);
      model.push(item);
    }
    assert.equal(heap.size, model.length);
  }
  assert.equal(new MinHeap<number>((a, b) => a < b).pop(), undefined);
});
