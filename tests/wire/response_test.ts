/** The answer to a client datagram: `status u8 | length u16 | body | mac`, and what the mac covers. */

import assert from "node:assert/strict";
import { DatagramError } from "../../src/wire/datagram.ts";
import {
  decodeResponse,
  encodeResponse,
  MAX_BODY,
  RESPONSE_OVERHEAD,
  responseLength,
  responseMacInput,
  Status,
  statusName,
} from "../../src/wire/response.ts";

const mac = Uint8Array.from({ length: 32 }, (_, i) => 0xc0 + i);
const body = new TextEncoder().encode("not enough credit");

Deno.test("a response survives encode and decode", async (t) => {
  await t.step("with a body", () => {
    const bytes = encodeResponse(Status.Refused, body, mac);
    assert.equal(bytes.length, RESPONSE_OVERHEAD + body.length);
    assert.deepEqual(decodeResponse(bytes), { status: Status.Refused, body, mac });
  });
  await t.step("with an empty body", () => {
    const bytes = encodeResponse(Status.Ok, new Uint8Array(), mac);
    assert.equal(bytes.length, 35);
    assert.deepEqual(decodeResponse(bytes), { status: 0, body: new Uint8Array(), mac });
  });
  await t.step("with the largest body", () => {
    const big = new Uint8Array(MAX_BODY).fill(9);
    const bytes = encodeResponse(Status.Ok, big, mac);
    assert.equal(responseLength(bytes.subarray(0, 3)), RESPONSE_OVERHEAD + MAX_BODY);
    assert.deepEqual(decodeResponse(bytes).body, big);
  });
});

Deno.test("a response lays out status, big-endian length, body, then the mac", () => {
  const long = new Uint8Array(0x0102).fill(7);
  const bytes = encodeResponse(Status.Replay, long, mac);
  assert.deepEqual([...bytes.subarray(0, 3)], [3, 0x01, 0x02]);
  assert.deepEqual(bytes.subarray(3, 3 + 0x0102), long);
  assert.deepEqual(bytes.subarray(3 + 0x0102), mac);
});

Deno.test("a body longer than a u16 length is refused", () => {
  assert.throws(() => encodeResponse(Status.Ok, new Uint8Array(MAX_BODY + 1), mac), DatagramError);
});

Deno.test("the mac covers the request signature, then status, length and body", () => {
  const signature = Uint8Array.from({ length: 32 }, (_, i) => i);
  const input = responseMacInput(signature, Status.Ok, body);
  assert.equal(input.length, 32 + 3 + body.length);
  assert.deepEqual(input.subarray(0, 32), signature);
  assert.deepEqual([...input.subarray(32, 35)], [0, 0, body.length]);
  assert.deepEqual(input.subarray(35), body);
  const encoded = encodeResponse(Status.Ok, body, mac);
  assert.deepEqual(
    input.subarray(32),
    encoded.subarray(0, encoded.length - 32),
    "the mac input is the request signature followed by the response without its mac",
  );
});

Deno.test("a response whose length field does not match its size is refused", () => {
  const bytes = encodeResponse(Status.Ok, body, mac);
  assert.throws(() => decodeResponse(bytes.subarray(0, bytes.length - 1)), DatagramError);
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  assert.throws(() => decodeResponse(longer), DatagramError);
  assert.throws(() => decodeResponse(new Uint8Array(34)), DatagramError);
  assert.throws(() => decodeResponse(new Uint8Array()), DatagramError);
  const lying = bytes.slice();
  lying[2] += 1;
  assert.throws(() => decodeResponse(lying), DatagramError);
});

Deno.test("every status has a name, and an unknown one says its number", () => {
  assert.equal(statusName(Status.Ok), "ok");
  assert.equal(statusName(Status.Replay), "replay");
  assert.equal(statusName(Status.InternalError), "internal error");
  assert.equal(statusName(200), "status 200");
  assert.deepEqual(Object.values(Status), [0, 1, 2, 3, 4, 5, 6, 7]);
});
