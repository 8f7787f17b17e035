/** Simulations on failing disks keep every invariant, and storage bugs planted in a server are caught. */

import assert from "node:assert/strict";
import type { AppendFile, FileSystem } from "../../src/store/fs.ts";
import { type DiskFaults, NO_DISK_FAULTS, STANDARD_DISK_FAULTS } from "../../src/sim/disk.ts";
import { parseSimArgs, replayCommand } from "../../src/sim/main.ts";
import { runSimulation, type SimOptions } from "../../src/sim/run.ts";
import { SMALL } from "./_small.ts";

const EACH: [
  string,
  Partial<DiskFaults>,
  (report: Awaited<ReturnType<typeof runSimulation>>) => number,
][] = [
  ["I/O errors on writes", { eioWrite: 0.002 }, (r) => r.disk.stops],
  ["I/O errors on fsyncs", { eioSync: 0.002 }, (r) => r.disk.stops],
  ["I/O errors on renames", { eioRename: 0.01 }, (r) => r.disk.stops],
  ["I/O errors on directory fsyncs", { eioSyncDir: 0.03 }, (r) => r.disk.stops],
  ["disks that fill up", { fullEveryMs: 1_500, fullMs: [500, 4_000] }, (r) => r.disk.noSpace],
  ["crashes that lose unsynced directories", { lostDirs: true }, (r) => r.stats.crashes],
  ["all of them at once (--disk-faults)", STANDARD_DISK_FAULTS, (r) => r.disk.ioErrors],
];

Deno.test("runs with each disk fault keep every invariant", async (t) => {
  for (const [i, [name, faults, injected]] of EACH.entries()) {
    await t.step(name, async () => {
      const options = { ...SMALL, seed: 41 + i, disk: { ...NO_DISK_FAULTS, ...faults } };
      const report = await runSimulation(options);
      assert.deepEqual(report.violations, [], replayCommand(options));
      assert.ok(injected(report) > 0, `the fault happened: ${JSON.stringify(report.disk)}`);
      assert.ok(report.payments.completed > 0, "some payments completed");
    });
  }
});

/** Passes everything to the disk, with the changes `bug` makes. */
function planted(fs: FileSystem, bug: Partial<FileSystem>): FileSystem {
  return new Proxy(fs, {
    get: (target, name) =>
      (bug as Record<string | symbol, unknown>)[name] ?? Reflect.get(target, name).bind(target),
  });
}

/** The bug of fsyncgate: a failed fsync of the journal is tried again, and the second succeeds. */
function retriedFsync(fs: FileSystem): FileSystem {
  return planted(fs, {
    async openAppend(path: string): Promise<AppendFile> {
      const file = await fs.openAppend(path);
      return { ...file, sync: () => file.sync().catch(() => file.sync()) };
    },
  });
}

/** A checkpoint that removes the journal segment before the directories of its files are fsynced. */
function segmentGoneFirst(fs: FileSystem): FileSystem {
  return planted(fs, {
    syncDir: (dir: string) => dir.endsWith("/journal") ? fs.syncDir(dir) : Promise.resolve(),
  });
}

Deno.test("a retried fsync is caught", async (t) => {
  const options: SimOptions = {
    ...SMALL,
    seed: 51,
    faults: { ...SMALL.faults, crashEveryMs: 1_500 },
    disk: { ...NO_DISK_FAULTS, eioSync: 0.02 },
  };
  await t.step("the same run without the bug keeps every invariant", async () => {
    const report = await runSimulation(options);
    assert.deepEqual(report.violations, [], replayCommand(options));
    assert.ok(report.disk.stops > 0);
  });
  await t.step("with it, acknowledged records are lost behind the dropped bytes", async () => {
    const report = await runSimulation({ ...options, wrapDisk: retriedFsync });
    const caught = new Set(report.violations.map((v) => v.invariant));
    // Counters sent again after a crash, or a journal whose hole is no longer at its end.
    assert.ok(caught.has("counter-reused") || caught.has("restart-failed"), [...caught].join());
  });
});

Deno.test("a journal segment deleted before its files are durable is caught", async (t) => {
  const options: SimOptions = { ...SMALL, seed: 52, disk: { ...NO_DISK_FAULTS, lostDirs: true } };
  await t.step("the same run without the bug keeps every invariant", async () => {
    assert.deepEqual((await runSimulation(options)).violations, [], replayCommand(options));
  });
  await t.step("with it, a crash loses the files", async () => {
    const report = await runSimulation({ ...options, wrapDisk: segmentGoneFirst });
    const caught = new Set(report.violations.map((v) => v.invariant));
    assert.ok(caught.has("lost-on-crash"), [...caught].join(", "));
    assert.ok(caught.has("trustline-lost") || caught.has("balance-disagrees"));
  });
});

Deno.test("the disk-fault flags", async (t) => {
  await t.step("a replay command with disk faults parses back into the same run", () => {
    const options = { ...SMALL, seed: 5, disk: STANDARD_DISK_FAULTS };
    const parsed = parseSimArgs(replayCommand(options).split(" ").slice(3))!;
    assert.deepEqual(parsed.options, options);
  });
  await t.step("--disk-faults stands for every disk fault", () => {
    assert.deepEqual(parseSimArgs(["--disk-faults"])!.options.disk, STANDARD_DISK_FAULTS);
  });
  await t.step("bad values are usage errors that say what is wanted", () => {
    assert.throws(
      () => parseSimArgs(["--eio-fsync", "2"]),
      /--eio-fsync must be a number from 0 to 1/,
    );
    assert.throws(() => parseSimArgs(["--full-ms", "9-3"]), /MIN-MAX/);
    assert.throws(() => parseSimArgs(["--full-every-ms", "0.5"]), /whole number/);
  });
});
