/** Secret keys: 32 random bytes, kept as 64 lower-case hex characters. */

import assert from "node:assert/strict";
import { fromHex, generateKey, KEY_SIZE, KeyError, parseKey, toHex } from "../../src/auth/keys.ts";

const hex = "00112233445566778899aabbccddeeff0123456789abcdef0f1e2d3c4b5a6978";

Deno.test("a key file of 64 lower-case hex characters with a trailing newline parses", () => {
  const key = parseKey(hex + "\n");
  assert.equal(key.length, KEY_SIZE);
  assert.deepEqual([...key.subarray(0, 4)], [0x00, 0x11, 0x22, 0x33]);
  assert.equal(key[31], 0x78);
  assert.deepEqual(parseKey(hex), key);
});

Deno.test("a key that is not 64 lower-case hex characters is refused", () => {
  for (
    const [what, bad] of [
      ["upper case", hex.toUpperCase()],
      ["one upper-case digit", hex.slice(0, 63) + "F"],
      ["short", hex.slice(0, 62)],
      ["one short", hex.slice(0, 63)],
      ["long", hex + "00"],
      ["one long", hex + "0"],
      ["not hex", hex.slice(0, 63) + "g"],
      ["empty", ""],
      ["a space inside", hex.slice(0, 32) + " " + hex.slice(32, 63)],
      ["0x prefix", "0x" + hex.slice(2)],
    ]
  ) {
    assert.throws(() => parseKey(bad), KeyError, what);
  }
});

Deno.test("hex round-trips and is written in lower case", () => {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const text = toHex(bytes);
  assert.equal(text, text.toLowerCase());
  assert.equal(text.slice(0, 8), "00010203");
  assert.deepEqual(fromHex(text), bytes);
  assert.deepEqual(fromHex("ABcd"), new Uint8Array([0xab, 0xcd]));
  assert.throws(() => fromHex("abc"), KeyError);
  assert.throws(() => fromHex("zz"), KeyError);
});

Deno.test("a generated key is 32 random bytes that parse back from their hex", () => {
  const a = generateKey();
  const b = generateKey();
  assert.equal(a.length, 32);
  assert.notDeepEqual(a, b);
  assert.deepEqual(parseKey(toHex(a) + "\n"), a);
});
