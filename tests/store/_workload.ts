/** A workload of change sets for crash and fault tests of the store, and the checks a recovered store must pass. */

import assert from "node:assert/strict";
import type { ChangeSet } from "../../src/store/journal.ts";
import type { Store, StoreOptions } from "../../src/store/store.ts";
import { FakeClock, settle } from "../_fake_clock.ts";

export const ROOT = "/data/ripple";
export const SETS = 15;

/**
 * Change set `i` writes two files of its own, overwrites a shared one and moves a marker
 * file from `i - 1` to `i`, so a half-applied set shows as a lone file, a wrong latest or
 * two markers.
 */
export function changeSet(i: number): ChangeSet {
  const changes: ChangeSet = new Map([
    [`sets/${i}/a.txt`, `a${i}\n`],
    [`sets/${i}/b.txt`, `b${i}\n`],
    ["latest.txt", `${i}\n`],
    [`marks/${i}.txt`, "mark\n"],
  ]);
  if (i > 0) changes.set(`marks/${i - 1}.txt`, null);
  return changes;
}

/** Commits the change sets, some together and some one by one, then closes the store. */
export async function workload(store: Store, acknowledged: Set<number>): Promise<void> {
  let batch: Promise<void>[] = [];
  for (let i = 0; i < SETS; i++) {
    batch.push(store.commit(changeSet(i)).then(() => void acknowledged.add(i)));
    if (i % 3 === 2) {
      await Promise.allSettled(batch);
      batch = [];
    }
    // Now and then let a background checkpoint finish before the next commit.
    if (i % 6 === 5) await settle();
  }
  await Promise.allSettled(batch);
  await store.close();
}

/** Checks every invariant a recovered store must hold; returns how many change sets it holds. */
export async function checkRecovered(store: Store, acknowledged: Set<number>, when: string) {
  let present = 0;
  for (let i = 0; i < SETS; i++) {
    const a = await store.read(`sets/${i}/a.txt`);
    const b = await store.read(`sets/${i}/b.txt`);
    assert.equal(a === undefined, b === undefined, `${when}: change set ${i} is half there`);
    if (a === undefined) continue;
    assert.equal(a, `a${i}\n`);
    assert.equal(b, `b${i}\n`);
    assert.equal(present, i, `${when}: change set ${i} is there but an earlier one is not`);
    present++;
  }
  for (const i of acknowledged) {
    assert.ok(i < present, `${when}: acknowledged change set ${i} was lost`);
  }
  const latest = await store.read("latest.txt");
  assert.equal(latest, present === 0 ? undefined : `${present - 1}\n`, `${when}: latest.txt`);
  const marks = await store.list("marks");
  assert.deepEqual(marks, present === 0 ? [] : [`${present - 1}.txt`], `${when}: markers`);
  return present;
}

export function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

export function options(extra: StoreOptions = {}): StoreOptions {
  return { clock: new FakeClock(), segmentBytes: 400, ...extra };
}
