/** Argument and body layouts: fields packed big-endian from offset 0, then zero padding. */

import assert from "node:assert/strict";
import { DatagramError, decodeDatagram, encodeDatagram } from "../../src/wire/datagram.ts";
import { layout } from "../../src/wire/layout.ts";
import { paymentArgs, replayBody } from "../../src/wire/arguments.ts";

const every = layout({ small: "u8", counter: "u32", amount: "u64", balance: "i64", id: "id" });
const id = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

Deno.test("a layout's size is its fields, its total the 256-byte arguments unless exact", () => {
  assert.equal(every.size, 1 + 4 + 8 + 8 + 32);
  assert.equal(every.total, 256);
  const exact = layout({ amount: "u64", counter: "u32" }, "exact");
  assert.equal(exact.size, 12);
  assert.equal(exact.total, 12);
  assert.equal(layout({}).size, 0);
  assert.equal(layout({ a: "u8" }, 10).total, 10);
});

Deno.test("every field type round-trips at its limits", () => {
  const cases = [
    { small: 0, counter: 0, amount: 0n, balance: 0n, id },
    {
      small: 0xff,
      counter: 0xffff_ffff,
      amount: (1n << 64n) - 1n,
      balance: (1n << 63n) - 1n,
      id: new Uint8Array(32).fill(0xff),
    },
    { small: 1, counter: 1, amount: 1n, balance: -(1n << 63n), id: new Uint8Array(32) },
    { small: 7, counter: 123456, amount: 10n ** 18n, balance: -1n, id },
  ];
  for (const values of cases) {
    const bytes = every.encode(values);
    assert.equal(bytes.length, 256);
    assert.deepEqual(every.decode(bytes), values);
  }
});

Deno.test("fields are big-endian, in declaration order, followed by zeros", () => {
  const bytes = every.encode({
    small: 0xab,
    counter: 0x01020304,
    amount: 0x1112131415161718n,
    balance: -2n,
    id,
  });
  assert.deepEqual([...bytes.subarray(0, 1)], [0xab]);
  assert.deepEqual([...bytes.subarray(1, 5)], [1, 2, 3, 4]);
  assert.deepEqual([...bytes.subarray(5, 13)], [0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18]);
  assert.deepEqual([...bytes.subarray(13, 21)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]);
  assert.deepEqual(bytes.subarray(21, 53), id);
  assert.ok(bytes.subarray(53).every((b) => b === 0));
});

Deno.test("values out of range are refused when encoding", () => {
  const good = { small: 0, counter: 0, amount: 0n, balance: 0n, id };
  const bad: [string, Partial<typeof good>][] = [
    ["u8 256", { small: 256 }],
    ["u8 -1", { small: -1 }],
    ["u8 1.5", { small: 1.5 }],
    ["u8 NaN", { small: NaN }],
    ["u32 2^32", { counter: 2 ** 32 }],
    ["u32 -1", { counter: -1 }],
    ["u64 -1", { amount: -1n }],
    ["u64 2^64", { amount: 1n << 64n }],
    ["u64 given a number", { amount: 5 as unknown as bigint }],
    ["i64 2^63", { balance: 1n << 63n }],
    ["i64 -2^63-1", { balance: -(1n << 63n) - 1n }],
    ["id of 31 bytes", { id: new Uint8Array(31) }],
    ["id of 33 bytes", { id: new Uint8Array(33) }],
  ];
  for (const [what, change] of bad) {
    assert.throws(() => every.encode({ ...good, ...change }), DatagramError, what);
  }
});

Deno.test("a non-zero byte after the last field is refused", () => {
  const bytes = every.encode({ small: 0, counter: 0, amount: 0n, balance: 0n, id });
  for (const at of [every.size, 100, 255]) {
    const dirty = bytes.slice();
    dirty[at] = 1;
    assert.throws(() => every.decode(dirty), /bytes after their last field/, `byte ${at}`);
  }
});

Deno.test("a field of the wrong length is refused", () => {
  assert.throws(() => every.decode(new Uint8Array(255)), DatagramError);
  assert.throws(() => every.decode(new Uint8Array(257)), DatagramError);
  assert.throws(() => replayBody.decode(new Uint8Array(3)), DatagramError);
  assert.throws(() => replayBody.decode(new Uint8Array(5)), DatagramError);
  assert.deepEqual(replayBody.decode(new Uint8Array([0, 0, 1, 0])), { counter: 256 });
});

Deno.test("arguments decode straight from a decoded datagram", () => {
  const args = paymentArgs.encode({ id, amount: 250n });
  const bytes = encodeDatagram({
    command: 5,
    username: "alice",
    peerUsername: "bob",
    peerAddress: "127.0.0.3",
    arguments: args,
    counter: 1,
  }, new Uint8Array(32));
  const decoded = paymentArgs.decode(decodeDatagram(bytes).arguments);
  assert.equal(decoded.amount, 250n);
  assert.deepEqual(decoded.id, id);
  bytes[97] ^= 0xff;
  assert.equal(decoded.id[0], 1, "a decoded id is a copy, not a view of the datagram");
});

Deno.test("a name field is refused with a control byte, or bytes after its end", () => {
  const entry = layout({ name: "name" }, "exact");
  const field = (...bytes: number[]) => {
    const raw = new Uint8Array(32);
    raw.set(bytes);
    return raw;
  };
  assert.equal(entry.decode(field(0x62, 0x6f, 0x62)).name, "bob");
  assert.throws(() => entry.decode(field(0x1b, 0x5b, 0x32, 0x4a)), DatagramError);
  assert.throws(() => entry.decode(field(0x62, 0, 0x62)), DatagramError);
  assert.throws(() => entry.decode(field(0x62, 0xc3, 0xa9)), DatagramError);
});
