/** Fuzzing every argument and body layout: bytes are refused with DatagramError or decoded, and values survive encode and decode. */

import assert from "node:assert/strict";
import * as layouts from "../../src/wire/arguments.ts";
import { DatagramError } from "../../src/wire/datagram.ts";
import { type FieldType, LABEL_SIZE, type Layout, type Values } from "../../src/wire/layout.ts";
import { bytesOf, counter, fc, refusedOnlyWith } from "./_fuzz.ts";

type AnyLayout = Layout<Record<string, FieldType>>;
type AnyValues = Values<Record<string, FieldType>>;

const SIZES: Record<FieldType, number> = {
  u8: 1,
  u32: 4,
  u64: 8,
  i64: 8,
  id: 32,
  name: 32,
  label: LABEL_SIZE,
};
const PRINTABLE = Array.from({ length: 0x7e - 0x20 }, (_, i) => String.fromCharCode(0x21 + i));

/** Every layout src/wire/arguments.ts exports, so a new one is fuzzed without editing this file. */
const LAYOUTS = Object.entries(layouts).filter(
  (entry): entry is [string, AnyLayout] =>
    typeof entry[1] === "object" && entry[1] !== null && "decode" in entry[1],
);

/**
 * A layout's fields in order. Layouts do not export their declarations, so each type is read
 * back from how the decoder treats a probe byte at the field's offset; that the sizes add
 * up to the layout's own checks the reading.
 */
function fieldsOf(layout: AnyLayout): [string, FieldType][] {
  const fields: [string, FieldType][] = [];
  let at = 0;
  for (const name of Object.keys(layout.decode(new Uint8Array(layout.total)))) {
    const probe = new Uint8Array(layout.total);
    probe[at] = 0x80;
    // A name field refuses a byte above 0x7e, so a refused probe marks a name.
    let value: unknown = "";
    try {
      value = layout.decode(probe)[name];
    } catch (error) {
      if (!(error instanceof DatagramError)) throw error;
    }
    const type: FieldType = typeof value === "bigint"
      ? (value < 0n ? "i64" : "u64")
      : value instanceof Uint8Array
      ? (value.length === LABEL_SIZE ? "label" : "id")
      : typeof value === "string"
      ? "name"
      : value === 0x80
      ? "u8"
      : "u32";
    fields.push([name, type]);
    at += SIZES[type];
  }
  assert.equal(at, layout.size, "field sizes add up to the layout's");
  return fields;
}

const VALID: Record<FieldType, fc.Arbitrary<AnyValues[string]>> = {
  u8: fc.integer({ min: 0, max: 255 }),
  u32: counter,
  u64: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  i64: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
  id: bytesOf(32),
  label: bytesOf(LABEL_SIZE),
  name: fc.string({ unit: fc.constantFrom(...PRINTABLE), maxLength: 32 }),
};

/** Any double but -0, which is written as 0 and so rightly decodes as 0. */
const anyNumber = fc.double().filter((n) => !Object.is(n, -0));

/** Values of the right JavaScript type but maybe out of range: what a buggy caller might pass. */
const WILD: Record<FieldType, fc.Arbitrary<AnyValues[string]>> = {
  u8: fc.oneof(VALID.u8, anyNumber, fc.integer()),
  u32: fc.oneof(VALID.u32, anyNumber, fc.integer({ min: -1, max: 2 ** 33 })),
  u64: fc.oneof(VALID.u64, fc.bigInt({ min: -(1n << 65n), max: 1n << 65n })),
  i64: fc.oneof(VALID.i64, fc.bigInt({ min: -(1n << 65n), max: 1n << 65n })),
  id: fc.oneof(VALID.id, fc.uint8Array({ maxLength: 40 })),
  label: fc.oneof(VALID.label, fc.uint8Array({ maxLength: 40 })),
  name: fc.oneof(VALID.name, fc.string({ unit: "binary", maxLength: 40 })),
};

function valuesOf(
  fields: [string, FieldType][],
  kinds: Record<FieldType, fc.Arbitrary<AnyValues[string]>>,
): fc.Arbitrary<AnyValues> {
  return fc.record(Object.fromEntries(fields.map(([name, type]) => [name, kinds[type]])));
}

/** Bytes for a layout: all random, or random fields then zeros, maybe with a few bytes set. */
function bytesFor(layout: AnyLayout): fc.Arbitrary<Uint8Array> {
  const fieldsThenZeros = bytesOf(layout.size).map((fields) => {
    const bytes = new Uint8Array(layout.total);
    bytes.set(fields);
    return bytes;
  });
  return fc.oneof(
    bytesOf(layout.total),
    fieldsThenZeros,
    fc.tuple(fieldsThenZeros, fc.array(fc.nat(), { minLength: 1, maxLength: 3 })).map(
      ([bytes, spots]) => {
        for (const spot of spots) bytes[spot % bytes.length] ^= 1 + (spot % 255);
        return bytes;
      },
    ),
  );
}

Deno.test("every layout in arguments.ts is found and its fields read back", () => {
  assert.ok(LAYOUTS.length >= 19, `found ${LAYOUTS.map(([name]) => name)}`);
  for (const [name, layout] of LAYOUTS) {
    assert.ok(fieldsOf(layout), name);
    assert.ok(layout.total === 256 || layout.total === layout.size, name);
  }
});

Deno.test("bytes of a layout's length are refused with DatagramError or decoded", async (t) => {
  for (const [index, [name, layout]] of LAYOUTS.entries()) {
    const hasName = fieldsOf(layout).some(([, type]) => type === "name");
    await t.step(name, () => {
      fc.assert(
        fc.property(bytesFor(layout), (bytes) => {
          const values = refusedOnlyWith(DatagramError, () => layout.decode(bytes));
          if (values === undefined) {
            // Only padding, or a name field's bytes (not printable, or after its end), are refused.
            const padded = bytes.subarray(layout.size).some((byte) => byte !== 0);
            assert.ok(padded || hasName, "refused padding");
            return;
          }
          assert.ok(bytes.subarray(layout.size).every((byte) => byte === 0), "accepted padding");
          // Name fields are read up to their first zero, so only other layouts give every byte back.
          if (!hasName) assert.deepEqual(layout.encode(values), bytes);
        }),
        { seed: 0xa7650000 + index, numRuns: 200 },
      );
    });
  }
});

Deno.test("bytes of any other length are refused with DatagramError", async (t) => {
  for (const [index, [name, layout]] of LAYOUTS.entries()) {
    await t.step(name, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
          fc.pre(bytes.length !== layout.total);
          assert.throws(() => layout.decode(bytes), DatagramError);
        }),
        { seed: 0xa7651000 + index, numRuns: 50 },
      );
    });
  }
});

Deno.test("values survive encode and decode unchanged, padded with zeros", async (t) => {
  for (const [index, [name, layout]] of LAYOUTS.entries()) {
    await t.step(name, () => {
      fc.assert(
        fc.property(valuesOf(fieldsOf(layout), VALID), (values) => {
          const bytes = layout.encode(values);
          assert.equal(bytes.length, layout.total);
          assert.ok(bytes.subarray(layout.size).every((byte) => byte === 0));
          assert.deepEqual(layout.decode(bytes), values);
          // Arguments are decoded in place, at offset 97 of the datagram.
          const datagram = new Uint8Array(97 + layout.total + 36);
          datagram.set(bytes, 97);
          assert.deepEqual(layout.decode(datagram.subarray(97, 97 + layout.total)), values);
        }),
        { seed: 0xa7652000 + index, numRuns: 100 },
      );
    });
  }
});

Deno.test("out-of-range values are refused by encode with DatagramError, never written wrong", async (t) => {
  for (const [index, [name, layout]] of LAYOUTS.entries()) {
    await t.step(name, () => {
      fc.assert(
        fc.property(valuesOf(fieldsOf(layout), WILD), (values) => {
          const bytes = refusedOnlyWith(DatagramError, () => layout.encode(values));
          if (bytes !== undefined) assert.deepEqual(layout.decode(bytes), values);
        }),
        { seed: 0xa7653000 + index, numRuns: 100 },
      );
    });
  }
});
