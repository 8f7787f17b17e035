/** Fuzzing the name parsers: any string is refused with NameError or gives a name that is safe as a path segment. */

import assert from "node:assert/strict";
import {
  canonicalAddress,
  isCanonicalAddress,
  isUsername,
  NameError,
  parseAccountRef,
  parseServerAddress,
} from "../../src/wire/names.ts";
import { assertSafeName, fc, refusedOnlyWith, serverAddress, username } from "./_fuzz.ts";

/** Characters that are near misses: path separators, upper case and letters that lower-case to ASCII. */
const NEAR_MISSES = "az09_-.:/\\@AZ \t\n\x00\x01\x7f\u0130\u0131\u212a\u017f\uff41\u00e9";

/** A valid name with one character replaced by, or one inserted from, the near misses. */
function spoiled(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(valid, fc.nat(), fc.constantFrom(...NEAR_MISSES), fc.boolean())
    .map(([name, at, char, insert]) => {
      const i = at % (name.length + 1);
      return name.slice(0, i) + char + name.slice(insert ? i : i + 1);
    });
}

/** Strings worth showing to a name parser: anything, near misses, and spoiled valid names. */
const nameText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...NEAR_MISSES), maxLength: 40 }),
  spoiled(username),
  spoiled(serverAddress),
  fc.tuple(fc.oneof(username, spoiled(username)), fc.oneof(serverAddress, spoiled(serverAddress)))
    .map(([name, address]) => `${name}@${address}`),
  fc.tuple(fc.oneof(serverAddress, spoiled(serverAddress)), fc.string({ maxLength: 8 }))
    .map(([address, port]) => `${address}:${port}`),
);

const RUNS = { numRuns: 1500 };

Deno.test("isUsername never throws, and every username it accepts is safe as a path segment", () => {
  fc.assert(
    fc.property(nameText, (text) => {
      if (isUsername(text)) assertSafeName(text, "username");
    }),
    { seed: 0x4a3e0001, ...RUNS },
  );
});

Deno.test("parseServerAddress refuses with NameError only, and what it accepts is a safe host and a real port", () => {
  fc.assert(
    fc.property(nameText, (text) => {
      const address = refusedOnlyWith(NameError, () => parseServerAddress(text));
      if (address === undefined) return;
      assertSafeName(text, "server address");
      assertSafeName(address.host, "host");
      assert.ok(!address.host.includes(":"), `host ${address.host} has a colon`);
      assert.ok(Number.isInteger(address.port) && address.port >= 1 && address.port <= 65535);
    }),
    { seed: 0x4a3e0002, ...RUNS },
  );
});

Deno.test("canonicalAddress refuses with NameError only, and gives one spelling that is its own canonical form", () => {
  fc.assert(
    fc.property(nameText, (text) => {
      const canonical = refusedOnlyWith(NameError, () => canonicalAddress(text));
      if (canonical === undefined) return;
      assertSafeName(canonical, "canonical address");
      assert.ok(isCanonicalAddress(canonical));
      assert.equal(canonicalAddress(canonical), canonical);
      assert.deepEqual(parseServerAddress(canonical), parseServerAddress(text));
      assert.ok(!canonical.endsWith(":2012"));
    }),
    { seed: 0x4a3e0003, ...RUNS },
  );
});

Deno.test("parseAccountRef refuses with NameError only, and gives a safe username and a canonical address", () => {
  fc.assert(
    fc.property(nameText, (text) => {
      const ref = refusedOnlyWith(NameError, () => parseAccountRef(text));
      if (ref === undefined) return;
      assertSafeName(ref.username, "username");
      assert.ok(isUsername(ref.username));
      assertSafeName(ref.address, "address");
      assert.ok(isCanonicalAddress(ref.address));
    }),
    { seed: 0x4a3e0004, ...RUNS },
  );
});

Deno.test("every name the rules allow is accepted, and the default port is dropped", () => {
  fc.assert(
    fc.property(username, serverAddress, (name, address) => {
      assert.ok(isUsername(name), name);
      assert.ok(isCanonicalAddress(address), address);
      assert.equal(canonicalAddress(address), address);
      assert.deepEqual(parseAccountRef(`${name}@${address}`), { username: name, address });
      const withDefault = `${address}:2012`;
      if (!address.includes(":") && withDefault.length <= 32) {
        assert.equal(canonicalAddress(withDefault), address);
        assert.ok(!isCanonicalAddress(withDefault));
      }
    }),
    { seed: 0x4a3e0005, numRuns: 500 },
  );
});
