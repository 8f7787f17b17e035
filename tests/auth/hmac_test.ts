/** HMAC-SHA256 through WebCrypto: the RFC 4231 vectors, and what verification refuses. */

import assert from "node:assert/strict";
import { WebCryptoMac } from "../../src/auth/hmac.ts";
import { fromHex, toHex } from "../../src/auth/keys.ts";

const text = (s: string) => new TextEncoder().encode(s);
const filled = (length: number, byte: number) => new Uint8Array(length).fill(byte);

/** RFC 4231 section 4: test cases 1–4, 6 and 7 (case 5 truncates its output; see below). */
const RFC_4231: { name: string; key: Uint8Array; data: Uint8Array; hmac: string }[] = [
  {
    name: "1: a 20-byte key",
    key: filled(20, 0x0b),
    data: text("Hi There"),
    hmac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
  },
  {
    name: "2: a key shorter than the output",
    key: text("Jefe"),
    data: text("what do ya want for nothing?"),
    hmac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  },
  {
    name: "3: 50 bytes of 0xdd",
    key: filled(20, 0xaa),
    data: filled(50, 0xdd),
    hmac: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
  },
  {
    name: "4: a 25-byte key",
    key: Uint8Array.from({ length: 25 }, (_, i) => i + 1),
    data: filled(50, 0xcd),
    hmac: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
  },
  {
    name: "6: a key longer than the block size",
    key: filled(131, 0xaa),
    data: text("Test Using Larger Than Block-Size Key - Hash Key First"),
    hmac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  },
  {
    name: "7: a key and data longer than the block size",
    key: filled(131, 0xaa),
    data: text(
      "This is a test using a larger than block-size key and a larger than block-size data. " +
        "The key needs to be hashed before being used by the HMAC algorithm.",
    ),
    hmac: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
  },
];

Deno.test("signatures match the RFC 4231 HMAC-SHA256 test vectors", async (t) => {
  const mac = new WebCryptoMac();
  for (const vector of RFC_4231) {
    await t.step(`test case ${vector.name}`, async () => {
      const signature = await mac.sign(vector.key, vector.data);
      assert.equal(toHex(signature), vector.hmac);
      assert.equal(await mac.verify(vector.key, fromHex(vector.hmac), vector.data), true);
    });
  }
  await t.step("test case 5: the 128-bit truncated output is the signature's prefix", async () => {
    const signature = await mac.sign(filled(20, 0x0c), text("Test With Truncation"));
    assert.equal(toHex(signature.subarray(0, 16)), "a3b6167473100ee06e0c796c2955552b");
  });
});

Deno.test("verification refuses a signature with any single bit flipped", async () => {
  const mac = new WebCryptoMac();
  const key = filled(32, 0x42);
  const data = text("a datagram's signed bytes");
  const signature = await mac.sign(key, data);
  assert.equal(await mac.verify(key, signature, data), true);
  for (let bit = 0; bit < 256; bit++) {
    const flipped = signature.slice();
    flipped[bit >> 3] ^= 1 << (bit & 7);
    assert.equal(await mac.verify(key, flipped, data), false, `bit ${bit}`);
  }
});

Deno.test("verification refuses a signature of the wrong length", async () => {
  const mac = new WebCryptoMac();
  const key = filled(32, 1);
  const data = text("payload");
  const signature = await mac.sign(key, data);
  assert.equal(await mac.verify(key, signature.subarray(0, 31), data), false);
  assert.equal(await mac.verify(key, signature.subarray(0, 16), data), false);
  assert.equal(await mac.verify(key, new Uint8Array(), data), false);
  const longer = new Uint8Array(33);
  longer.set(signature);
  assert.equal(await mac.verify(key, longer, data), false);
});

Deno.test("verification refuses other data or another key", async () => {
  const mac = new WebCryptoMac();
  const key = filled(32, 1);
  const signature = await mac.sign(key, text("payload"));
  assert.equal(await mac.verify(key, signature, text("payloaD")), false);
  assert.equal(await mac.verify(filled(32, 2), signature, text("payload")), false);
});

Deno.test("a key dropped from the import cache still signs correctly", async () => {
  const mac = new WebCryptoMac();
  const first = RFC_4231[0];
  assert.equal(toHex(await mac.sign(first.key, first.data)), first.hmac);
  const key = new Uint8Array(32);
  const view = new DataView(key.buffer);
  for (let i = 1; i <= 4200; i++) {
    view.setUint32(0, i);
    await mac.sign(key, first.data);
  }
  assert.equal(toHex(await mac.sign(first.key, first.data)), first.hmac);
});
