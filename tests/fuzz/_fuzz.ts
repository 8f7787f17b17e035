/** Generators and checks shared by the fuzz tests: valid names and datagrams built from docs/protocol.md §1, and the bytes that try to break them. */

import assert from "node:assert/strict";
import * as fc from "fast-check";
import type { DatagramFields } from "../../src/wire/datagram.ts";

export { fc };

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";
const encoder = new TextEncoder();

/** An error class, as `instanceof` takes it. */
export type ErrorClass = new (...args: never[]) => Error;

/**
 * Runs `operation`; an error of `allowed` counts as a refusal (undefined), anything else
 * thrown fails the property with the error's name in the message.
 */
export function refusedOnlyWith<T>(allowed: ErrorClass, operation: () => T): T | undefined {
  try {
    return operation();
  } catch (error) {
    if (error instanceof allowed) return undefined;
    throw new Error(`expected only ${allowed.name}, got ${describe(error)}`, { cause: error });
  }
}

/** Like {@linkcode refusedOnlyWith}, for an operation that returns a promise. */
export async function refusedOnlyWithAsync<T>(
  allowed: ErrorClass,
  operation: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof allowed) return undefined;
    throw new Error(`expected only ${allowed.name}, got ${describe(error)}`, { cause: error });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : `a thrown ${typeof error}`;
}

/** Any username the rule allows: 1–32 of `a-z 0-9 _ - .`, not starting with `.`, no `..`. */
export const username: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(...(LOWER + DIGITS + "_-")),
    fc.string({ unit: fc.constantFrom(...(LOWER + DIGITS + "_-.")), maxLength: 31 }),
  )
  .map(([first, rest]) => first + rest)
  .filter((name) => !name.includes(".."));

const labelEnd = fc.constantFrom(...(LOWER + DIGITS));
const dnsLabel = fc.oneof(
  labelEnd,
  fc
    .tuple(labelEnd, fc.string({ unit: fc.constantFrom(...(LOWER + DIGITS + "-")) }), labelEnd)
    .map(([first, middle, last]) => first + middle + last),
);
const dnsName = fc
  .array(dnsLabel, { minLength: 1, maxLength: 4 })
  .filter((labels) => !labels.every((label) => /^[0-9]+$/.test(label)))
  .map((labels) => labels.join("."));

/** Any canonical server address: a DNS name or dotted IPv4, a port other than 2012, ≤ 32 bytes. */
export const serverAddress: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(fc.ipV4(), dnsName),
    fc.option(fc.integer({ min: 1, max: 65535 }).filter((port) => port !== 2012)),
  )
  .map(([host, port]) => (port === null ? host : `${host}:${port}`))
  .filter((address) => address.length <= 32);

/** Bytes that are each a reason to refuse a name: end, dot, slash, upper case, controls, high bytes. */
export const hostileByte: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0x00, 0x0a, 0x20, 0x2d, 0x2e, 0x2f, 0x3a, 0x40, 0x41, 0x5a, 0x5c, 0x7f, 0x80),
  fc.constantFrom(0xc3, 0xff),
  fc.integer({ min: 0, max: 255 }),
);

/** Any 32-bit counter. */
export const counter: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0xffff_ffff });

/** Exactly `n` arbitrary bytes. */
export function bytesOf(n: number): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ minLength: n, maxLength: n });
}

/**
 * The fields of a datagram the decoder must accept: valid names, both peer fields or
 * neither (server commands always name their sender), any command, arguments and counter.
 */
export const datagramFields: fc.Arbitrary<DatagramFields> = fc
  .record({
    command: fc.integer({ min: 0, max: 255 }),
    username,
    peerUsername: username,
    peerAddress: serverAddress,
    namesPeer: fc.boolean(),
    arguments: bytesOf(256),
    counter,
  })
  .map(({ namesPeer, ...fields }) =>
    namesPeer || fields.command >= 128 ? fields : { ...fields, peerUsername: "", peerAddress: "" }
  );

/** A change of one byte of a datagram: anywhere, or in the command byte and the name fields. */
export const byteChange: fc.Arbitrary<{ at: number; byte: number }> = fc.record({
  at: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 96 }), fc.integer({ min: 0, max: 388 })),
  byte: hostileByte,
});

/**
 * Asserts what every accepted name promises before it becomes part of a path: 1–32 bytes
 * of printable lower-case ASCII, no `/`, no `..`, no leading `.`.
 */
export function assertSafeName(name: string, what: string): void {
  const bytes = encoder.encode(name);
  assert.ok(bytes.length >= 1 && bytes.length <= 32, `${what} ${JSON.stringify(name)}: length`);
  assert.ok(/^[\x21-\x7e]+$/.test(name), `${what} ${JSON.stringify(name)}: not printable ASCII`);
  assert.ok(!/[A-Z]/.test(name), `${what} ${JSON.stringify(name)}: upper case`);
  assert.ok(!name.includes("/") && !name.includes("\\"), `${what} ${JSON.stringify(name)}: slash`);
  assert.ok(!name.includes(".."), `${what} ${JSON.stringify(name)}: ..`);
  assert.ok(!name.startsWith("."), `${what} ${JSON.stringify(name)}: leading dot`);
}
