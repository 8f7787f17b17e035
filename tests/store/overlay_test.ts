/** The overlay's listing by account: the same names as a scan of every change in memory. */

import assert from "node:assert/strict";
import * as fc from "fast-check";
import { Overlay } from "../../src/store/overlay.ts";
import type { ChangeSet } from "../../src/store/journal.ts";

/** The two change layers as plain maps, and the listing as a scan of both: what the index must match. */
class Model {
  journaled = new Map<string, string | null>();
  unjournaled = new Map<string, { value: string | null; seq: number }>();

  names(dir: string, disk: string[]): string[] {
    const names = new Set(disk);
    const prefix = `${dir}/`;
    const lay = (path: string, value: string | null) => {
      if (!path.startsWith(prefix)) return;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf("/");
      if (slash !== -1) names.add(rest.slice(0, slash));
      else if (value === null) names.delete(rest);
      else names.add(rest);
    };
    for (const [path, value] of this.journaled) lay(path, value);
    for (const [path, { value }] of this.unjournaled) lay(path, value);
    return [...names].sort();
  }
}

const PATHS = [
  "pending/alice",
  "pending/bob",
  "accounts/alice/counter.txt",
  "accounts/alice/peers/127.0.0.2:7000/bob/balance.txt",
  "accounts/alice/peers/127.0.0.2:7000/bob/counter.txt",
  "accounts/alice/peers/127.0.0.2:7000/carol/balance.txt",
  "accounts/alice/payments/p1.txt",
  "accounts/bob/counter.txt",
  "accounts/bob/peers/127.0.0.3:7000/alice/balance.txt",
];
const DIRS = [
  "pending",
  "accounts",
  "accounts/alice",
  "accounts/alice/peers",
  "accounts/alice/peers/127.0.0.2:7000",
  "accounts/alice/peers/127.0.0.2:7000/bob",
  "accounts/alice/payments",
  "accounts/bob",
  "accounts/bob/peers/127.0.0.3:7000",
];

const change = fc.tuple(fc.constantFrom(...PATHS), fc.constantFrom<string | null>("x", "y", null));
const op = fc.oneof(
  fc.record({ kind: fc.constant("stage" as const), changes: fc.array(change, { maxLength: 4 }) }),
  fc.record({ kind: fc.constant("journal" as const), back: fc.nat(3) }),
  fc.record({ kind: fc.constant("checkpoint" as const), keep: fc.nat(3) }),
  fc.record({ kind: fc.constant("drop" as const) }),
  fc.record({ kind: fc.constant("replay" as const), changes: fc.array(change, { maxLength: 4 }) }),
);

Deno.test("a directory's listing inside an account sees exactly what a scan of every change sees", () => {
  fc.assert(
    fc.property(
      fc.array(op, { maxLength: 40 }),
      fc.subarray(["counter.txt", "bob", "p0.txt"]),
      (ops, disk) => {
        const overlay = new Overlay(16);
        const model = new Model();
        const staged: { seq: number; changes: ChangeSet }[] = [];
        let seq = 0;
        for (const step of ops) {
          if (step.kind === "stage") {
            const changes: ChangeSet = new Map(step.changes);
            seq++;
            overlay.stage(seq, changes);
            for (const [path, value] of changes) model.unjournaled.set(path, { value, seq });
            staged.push({ seq, changes });
          } else if (step.kind === "journal") {
            // Change sets reach the journal in order; `back` of them stay behind.
            const count = Math.max(0, staged.length - step.back);
            for (const { seq, changes } of staged.splice(0, count)) {
              overlay.journal(seq, changes);
              for (const [path, value] of changes) {
                model.journaled.set(path, value);
                if (model.unjournaled.get(path)?.seq === seq) model.unjournaled.delete(path);
              }
            }
          } else if (step.kind === "checkpoint") {
            // A snapshot of the journal layer, some of it overtaken by a later change.
            const snapshot = new Map(model.journaled);
            let n = 0;
            for (const path of snapshot.keys()) if (n++ % 4 < step.keep) snapshot.set(path, "old");
            overlay.checkpointed(snapshot);
            for (const [path, value] of snapshot) {
              if (model.journaled.get(path) === value) model.journaled.delete(path);
            }
          } else if (step.kind === "drop") {
            overlay.dropUnjournaled();
            model.unjournaled.clear();
            staged.length = 0;
          } else {
            const files = new Map(step.changes);
            overlay.replay(files);
            for (const [path, value] of files) model.journaled.set(path, value);
          }
          for (const dir of DIRS) {
            const names = new Set(disk);
            overlay.overlayNames(dir, names);
            assert.deepEqual(
              [...names].sort(),
              model.names(dir, disk),
              `${dir} after ${step.kind}`,
            );
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});
