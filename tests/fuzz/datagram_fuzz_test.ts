/** Fuzzing the edge: any bytes given to the datagram and answer decoders are refused with DatagramError or decoded into fields that keep every rule. */

import assert from "node:assert/strict";
import {
  type Datagram,
  DATAGRAM_SIZE,
  DatagramError,
  decodeDatagram,
  encodeDatagram,
  isServerCommand,
} from "../../src/wire/datagram.ts";
import { isCanonicalAddress, isUsername } from "../../src/wire/names.ts";
import { decodeResponse, encodeResponse, RESPONSE_OVERHEAD } from "../../src/wire/response.ts";
import {
  assertSafeName,
  byteChange,
  bytesOf,
  datagramFields,
  fc,
  refusedOnlyWith,
} from "./_fuzz.ts";

/** Checks a decoded datagram against the rules of docs/protocol.md §1 and the bytes it came from. */
function assertValid(datagram: Datagram, bytes: Uint8Array): void {
  assertSafeName(datagram.username, "username");
  assert.ok(isUsername(datagram.username));
  const namesPeer = datagram.peerUsername !== "" || datagram.peerAddress !== "";
  if (namesPeer || isServerCommand(datagram.command)) {
    assertSafeName(datagram.peerUsername, "peer username");
    assertSafeName(datagram.peerAddress, "peer server address");
    assert.ok(isUsername(datagram.peerUsername));
    assert.ok(isCanonicalAddress(datagram.peerAddress));
  }
  assert.equal(datagram.command, bytes[0]);
  assert.deepEqual(datagram.arguments, bytes.subarray(97, 353));
  assert.equal(datagram.counter, new DataView(bytes.buffer, bytes.byteOffset).getUint32(353));
  assert.deepEqual(datagram.signature, bytes.subarray(357));
  // A decoded datagram is what its fields encode to: no byte was ignored on the way in.
  assert.deepEqual(encodeDatagram(datagram, datagram.signature), bytes);
}

function decodeOrRefuse(bytes: Uint8Array): void {
  const datagram = refusedOnlyWith(DatagramError, () => decodeDatagram(bytes));
  if (datagram !== undefined) assertValid(datagram, bytes);
}

Deno.test("bytes of any length are refused with DatagramError unless they are 389", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1200 }), (bytes) => {
      fc.pre(bytes.length !== DATAGRAM_SIZE);
      assert.throws(() => decodeDatagram(bytes), DatagramError);
    }),
    { seed: 0x0d47a001, numRuns: 300 },
  );
});

Deno.test("389 arbitrary bytes are refused with DatagramError or decode to valid fields", () => {
  fc.assert(fc.property(bytesOf(DATAGRAM_SIZE), decodeOrRefuse), {
    seed: 0x0d47a002,
    numRuns: 1000,
  });
});

Deno.test("valid fields survive encode and decode unchanged", () => {
  fc.assert(
    fc.property(datagramFields, bytesOf(32), (fields, signature) => {
      const bytes = encodeDatagram(fields, signature);
      assert.equal(bytes.length, DATAGRAM_SIZE);
      const datagram = decodeDatagram(bytes);
      assert.deepEqual({ ...datagram, signature: undefined, bytes: undefined }, {
        ...fields,
        signature: undefined,
        bytes: undefined,
      });
      assert.deepEqual(datagram.signature, signature);
      assertValid(datagram, bytes);
      // A reader may hand over a view into a larger buffer, at any offset.
      const buffer = new Uint8Array(DATAGRAM_SIZE + 7);
      buffer.set(bytes, 5);
      const inside = buffer.subarray(5, 5 + DATAGRAM_SIZE);
      assertValid(decodeDatagram(inside), inside);
    }),
    { seed: 0x0d47a003, numRuns: 1000 },
  );
});

Deno.test("a valid datagram with bytes changed in its names, padding or command is refused with DatagramError or still valid", () => {
  fc.assert(
    fc.property(
      datagramFields,
      bytesOf(32),
      fc.array(byteChange, { minLength: 1, maxLength: 4 }),
      (fields, signature, changes) => {
        const bytes = encodeDatagram(fields, signature);
        for (const { at, byte } of changes) bytes[at] = byte;
        decodeOrRefuse(bytes);
      },
    ),
    { seed: 0x0d47a004, numRuns: 2000 },
  );
});

Deno.test("changes to the arguments, counter or signature alone never make a datagram invalid", () => {
  // The decoder checks names and peer fields; argument layouts and signatures are checked later.
  fc.assert(
    fc.property(
      datagramFields,
      bytesOf(32),
      fc.array(
        fc.record({
          at: fc.integer({ min: 97, max: 388 }),
          byte: fc.integer({ min: 0, max: 255 }),
        }),
        {
          minLength: 1,
          maxLength: 8,
        },
      ),
      (fields, signature, changes) => {
        const bytes = encodeDatagram(fields, signature);
        for (const { at, byte } of changes) bytes[at] = byte;
        assertValid(decodeDatagram(bytes), bytes);
      },
    ),
    { seed: 0x0d47a005, numRuns: 500 },
  );
});

Deno.test("a valid datagram cut short or run long is refused with DatagramError", () => {
  fc.assert(
    fc.property(
      datagramFields,
      fc.integer({ min: 0, max: 2 * DATAGRAM_SIZE }),
      (fields, length) => {
        fc.pre(length !== DATAGRAM_SIZE);
        const whole = encodeDatagram(fields, new Uint8Array(32));
        const bytes = new Uint8Array(length);
        bytes.set(whole.subarray(0, Math.min(length, DATAGRAM_SIZE)));
        assert.throws(() => decodeDatagram(bytes), DatagramError);
      },
    ),
    { seed: 0x0d47a006, numRuns: 300 },
  );
});

Deno.test("arbitrary answer bytes are refused with DatagramError or decode to what their header says", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 600 }),
        // Headers whose length field is small enough to match the bytes now and then.
        fc.tuple(
          fc.integer({ min: 0, max: 255 }),
          fc.integer({ min: 0, max: 300 }),
          fc.uint8Array({ maxLength: 400 }),
        ).map(
          ([status, length, rest]) => Uint8Array.of(status, length >> 8, length & 0xff, ...rest),
        ),
      ),
      (bytes) => {
        const response = refusedOnlyWith(DatagramError, () => decodeResponse(bytes));
        if (response === undefined) return;
        assert.equal(response.status, bytes[0]);
        assert.equal(response.body.length, (bytes[1] << 8) | bytes[2]);
        assert.equal(bytes.length, RESPONSE_OVERHEAD + response.body.length);
        assert.deepEqual(response.body, bytes.subarray(3, 3 + response.body.length));
        assert.deepEqual(response.mac, bytes.subarray(bytes.length - 32));
      },
    ),
    { seed: 0x0d47a007, numRuns: 1000 },
  );
});

Deno.test("an answer survives encode and decode unchanged, and any cut of it is refused", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 255 }),
      fc.uint8Array({ maxLength: 2000 }),
      bytesOf(32),
      fc.nat(),
      (status, body, mac, cutSeed) => {
        const bytes = encodeResponse(status, body, mac);
        assert.deepEqual(decodeResponse(bytes), { status, body, mac });
        const cut = cutSeed % bytes.length;
        assert.throws(() => decodeResponse(bytes.subarray(0, cut)), DatagramError);
      },
    ),
    { seed: 0x0d47a008, numRuns: 300 },
  );
});
