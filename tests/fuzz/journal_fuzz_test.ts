/** Fuzzing the redo journal: any segment text decodes to a prefix of good records, and a store opened on any journal refuses with JournalCorruptError or writes only inside its root. */

import assert from "node:assert/strict";
import {
  type ChangeSet,
  decodeJournal,
  encodeRecord,
  JournalCorruptError,
  segmentName,
} from "../../src/store/journal.ts";
import { MemoryFileSystem } from "../../src/store/memory_fs.ts";
import { Store } from "../../src/store/store.ts";
import { FakeClock } from "../_fake_clock.ts";
import { fc, refusedOnlyWithAsync, serverAddress, username } from "./_fuzz.ts";

const ROOT = "/data/ripple";
const JOURNAL = `${ROOT}/journal`;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Paths a server writes, relative to the store root. */
const storePath: fc.Arbitrary<string> = fc.oneof(
  username.map((name) => `accounts/${name}/counter.txt`),
  fc.tuple(username, serverAddress, username).map(([name, address, peer]) =>
    `accounts/${name}/peers/${address}/${peer}/balance.txt`
  ),
  username.map((name) => `pending/${name}`),
);

/** Paths no change set may name: escapes, absolute paths, empty or dot segments, odd bytes. */
const hostilePath: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    ".",
    "..",
    "../escape.txt",
    "/etc/passwd",
    "accounts/../../escape.txt",
    "accounts/alice/../../../escape.txt",
    "accounts//alice",
    "accounts/./alice",
    "accounts/Alice/counter.txt",
    "accounts/alice/\n",
    "accounts/a\u0000b",
    "journal/../../escape.log",
    "accounts/alice/",
  ),
  fc.string({ unit: "binary", maxLength: 30 }),
);

const changeSet = (path: fc.Arbitrary<string>): fc.Arbitrary<ChangeSet> =>
  fc
    .array(fc.tuple(path, fc.option(fc.string({ unit: "binary", maxLength: 40 }))), {
      maxLength: 4,
    })
    .map((entries) => new Map(entries));

/** Change sets as the server writes them: safe paths and ASCII decimal text, or removals. */
const asciiChangeSet: fc.Arbitrary<ChangeSet> = fc
  .array(fc.tuple(storePath, fc.option(fc.bigInt().map((n) => `${n}\n`))), {
    minLength: 1,
    maxLength: 4,
  })
  .map((entries) => new Map(entries));

/** Text that looks like journal lines now and then: a hex field, a space, JSON, a newline. */
const journalish: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF []",\n\\nul'), maxLength: 300 }),
  fc.tuple(fc.array(changeSet(hostilePath), { maxLength: 3 }), fc.string({ maxLength: 30 }))
    .map(([records, tail]) => records.map(encodeRecord).join("") + tail),
);

Deno.test("decodeJournal never throws, and keeps a run of whole lines from the start", () => {
  fc.assert(
    fc.property(journalish, (text) => {
      const { records, droppedBytes } = decodeJournal(text);
      assert.ok(droppedBytes >= 0 && droppedBytes <= text.length);
      const kept = text.slice(0, text.length - droppedBytes);
      assert.ok(kept === "" || kept.endsWith("\n"), "the kept part ends at a line's end");
      assert.equal(records.length, kept.split("\n").length - 1, "one record per kept line");
      for (const record of records) {
        for (const [path, value] of record) {
          assert.equal(typeof path, "string");
          assert.ok(value === null || typeof value === "string");
        }
      }
    }),
    { seed: 0x10a40001, numRuns: 1000 },
  );
});

Deno.test("change sets survive encode, UTF-8 on disk and decode unchanged", () => {
  fc.assert(
    fc.property(fc.array(changeSet(hostilePath), { maxLength: 5 }), (changeSets) => {
      const bytes = encoder.encode(changeSets.map(encodeRecord).join(""));
      assert.deepEqual(decodeJournal(decoder.decode(bytes)), {
        records: changeSets,
        droppedBytes: 0,
      });
    }),
    { seed: 0x10a40002, numRuns: 500 },
  );
});

Deno.test("a journal cut anywhere keeps exactly the records written whole before the cut", () => {
  fc.assert(
    fc.property(fc.array(asciiChangeSet, { minLength: 1, maxLength: 5 }), fc.nat(), (sets, n) => {
      const lines = sets.map(encodeRecord);
      const text = lines.join("");
      const cut = n % (text.length + 1);
      let whole = 0;
      for (let end = 0; whole < lines.length && end + lines[whole].length <= cut; whole++) {
        end += lines[whole].length;
      }
      const { records, droppedBytes } = decodeJournal(text.slice(0, cut));
      assert.deepEqual(records, sets.slice(0, whole));
      assert.equal(droppedBytes, cut - lines.slice(0, whole).join("").length);
    }),
    { seed: 0x10a40003, numRuns: 500 },
  );
});

Deno.test("a byte damaged on disk never yields a record with other content than was written", () => {
  fc.assert(
    fc.property(
      fc.array(asciiChangeSet, { minLength: 1, maxLength: 5 }),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (sets, n, flip) => {
        const bytes = encoder.encode(sets.map(encodeRecord).join(""));
        const at = n % bytes.length;
        bytes[at] ^= flip;
        const damagedLine = decoder.decode(bytes.subarray(0, at)).split("\n").length - 1;
        const { records } = decodeJournal(decoder.decode(bytes));
        // The hex field is read leniently ("0A" and "0a"), so a damaged line may still be
        // whole; what matters is that no record reads other than it was written.
        assert.ok(records.length >= damagedLine, "records before the damage are kept");
        records.forEach((record, i) => assert.deepEqual(record, sets[i], `record ${i}`));
      },
    ),
    { seed: 0x10a40004, numRuns: 1000 },
  );
});

/** A torn tail, or none. */
const tail = fc.oneof(fc.constant(""), fc.string({ maxLength: 20 }));

/** Journal segments as a crash, a bug or an attacker might leave them. */
const segments: fc.Arbitrary<Uint8Array[]> = fc.array(
  fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.array(asciiChangeSet, { maxLength: 3 }), tail)
        .map(([sets, torn]) => encoder.encode(sets.map(encodeRecord).join("") + torn)),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.array(asciiChangeSet, { maxLength: 2 }),
          fc.array(changeSet(fc.oneof(storePath, hostilePath)), { maxLength: 2 }),
          tail,
        )
        .map(([ascii, hostile, torn]) =>
          encoder.encode([...ascii, ...hostile].map(encodeRecord).join("") + torn)
        ),
    },
  ),
  { minLength: 1, maxLength: 3 },
);

async function diskImage(disk: MemoryFileSystem): Promise<Map<string, string>> {
  const view = disk.view();
  const files = new Map<string, string>();
  for (const path of disk.paths()) files.set(path, decoder.decode((await view.read(path))!));
  return files;
}

Deno.test("a store opened on any journal refuses with JournalCorruptError, or replays it only inside its root", async () => {
  await fc.assert(
    fc.asyncProperty(segments, async (contents) => {
      const disk = new MemoryFileSystem();
      const fs = disk.view();
      await fs.mkdir(JOURNAL);
      for (const [i, bytes] of contents.entries()) {
        await fs.write(`${JOURNAL}/${segmentName(i + 1)}`, bytes, { sync: true });
      }
      const before = await diskImage(disk);
      const store = await refusedOnlyWithAsync(
        JournalCorruptError,
        () => Store.open(disk.view(), ROOT, { clock: new FakeClock() }),
      );
      if (store === undefined) {
        assert.deepEqual(await diskImage(disk), before, "a refused journal changes nothing");
        return;
      }
      await store.close();
      // What replay should have written: every decoded record, in order, the last value winning.
      const expected = new Map<string, string>();
      for (const bytes of contents) {
        for (const record of decodeJournal(decoder.decode(bytes)).records) {
          for (const [path, value] of record) {
            if (value === null) expected.delete(`${ROOT}/${path}`);
            else expected.set(`${ROOT}/${path}`, value);
          }
        }
      }
      const after = await diskImage(disk);
      for (const path of after.keys()) {
        assert.ok(path.startsWith(`${ROOT}/`), `${JSON.stringify(path)} is outside the store`);
        const relative = path.slice(ROOT.length + 1);
        assert.ok(!relative.split("/").some((part) => part === "" || part.startsWith(".")));
      }
      assert.deepEqual(after, expected);
    }),
    { seed: 0x10a40005, numRuns: 300 },
  );
});
