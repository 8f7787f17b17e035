/** The redo journal: one CRC-checked line per change set; decoding stops at the first damaged one. */

import assert from "node:assert/strict";
import {
  type ChangeSet,
  crc32,
  decodeJournal,
  encodeRecord,
  segmentName,
  segmentNumber,
} from "../../src/store/journal.ts";

const first: ChangeSet = new Map([
  ["accounts/alice/counter.txt", "5\n"],
  ["accounts/alice/peers/127.0.0.3/bob/balance.txt", "-20\n"],
]);
const second: ChangeSet = new Map([["pending/alice", null], ["accounts/alice/counter.txt", "6\n"]]);
const third: ChangeSet = new Map([["notes/é.txt", 'line one\nline "two"\u2603\n']]);

Deno.test("the CRC-32 of '123456789' is cbf43926", () => {
  assert.equal(crc32("123456789"), 0xcbf43926);
  assert.equal(crc32(""), 0);
  assert.equal(crc32("a"), 0xe8b7be43);
});

Deno.test("change sets survive encode and decode in order", () => {
  const text = [first, second, third].map(encodeRecord).join("");
  const decoded = decodeJournal(text);
  assert.deepEqual(decoded.records, [first, second, third]);
  assert.equal(decoded.droppedBytes, 0);
  assert.deepEqual(decodeJournal(""), { records: [], droppedBytes: 0 });
});

Deno.test("a record is one line: eight hex digits of CRC, a space, the JSON", () => {
  const line = encodeRecord(first);
  assert.match(line, /^[0-9a-f]{8} \[.*\]\n$/);
  assert.equal(line.split("\n").length, 2, "new lines inside values are escaped");
  const json = line.slice(9, -1);
  assert.equal(parseInt(line.slice(0, 8), 16), crc32(json));
  assert.equal(encodeRecord(new Map([["z", "x"]])).slice(0, 8).length, 8);
});

Deno.test("a torn tail is dropped and the records before it are kept", async (t) => {
  const whole = encodeRecord(first) + encodeRecord(second);
  const last = encodeRecord(third);
  for (const cut of [1, 8, 9, last.length - 2, last.length - 1]) {
    await t.step(`the last record cut after ${cut} bytes`, () => {
      const decoded = decodeJournal(whole + last.slice(0, cut));
      assert.deepEqual(decoded.records, [first, second]);
      assert.equal(decoded.droppedBytes, cut);
    });
  }
});

Deno.test("a record with a bad CRC stops decoding there", async (t) => {
  const one = encodeRecord(first);
  const two = encodeRecord(second);
  const three = encodeRecord(third);
  await t.step("a changed byte in the JSON", () => {
    const damaged = two.replace('"6\\n"', '"7\\n"');
    assert.notEqual(damaged, two);
    const decoded = decodeJournal(one + damaged + three);
    assert.deepEqual(decoded.records, [first]);
    assert.equal(decoded.droppedBytes, damaged.length + three.length);
  });
  await t.step("a changed CRC digit", () => {
    const digit = two[0] === "0" ? "1" : "0";
    const decoded = decodeJournal(one + digit + two.slice(1) + three);
    assert.deepEqual(decoded.records, [first]);
  });
  await t.step("a damaged first record leaves nothing", () => {
    const decoded = decodeJournal("garbage\n" + one);
    assert.deepEqual(decoded.records, []);
    assert.equal(decoded.droppedBytes, 8 + one.length);
  });
});

Deno.test("a line with a good CRC but not a change set is treated as damage", () => {
  const line = (json: string) => `${crc32(json).toString(16).padStart(8, "0")} ${json}\n`;
  for (
    const json of ['{"a":"b"}', '[["a",1]]', '[[1,"b"]]', '["a"]', '[["a","b"]', "not json"]
  ) {
    const decoded = decodeJournal(encodeRecord(first) + line(json));
    assert.deepEqual(decoded.records, [first], json);
    assert.ok(decoded.droppedBytes > 0);
  }
  assert.deepEqual(decodeJournal(line("[]")).records, [new Map()]);
});

Deno.test("segment names sort in order and parse back", () => {
  assert.equal(segmentName(1), "000000000001.log");
  assert.equal(segmentNumber(segmentName(42)), 42);
  assert.ok(segmentName(9) < segmentName(10));
  assert.equal(segmentNumber("1.log"), null);
  assert.equal(segmentNumber(".000000000001.log.tmp"), null);
  assert.equal(segmentNumber("000000000001.log.tmp"), null);
  assert.equal(segmentNumber("00000000000a.log"), null);
});
