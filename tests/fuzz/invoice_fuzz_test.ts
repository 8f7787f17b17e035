/** Fuzzing the invoice parser: any text is refused with InvoiceError or read as an invoice that writes back the same. */

import assert from "node:assert/strict";
import { formatInvoice, InvoiceError, parseInvoice } from "../../src/client/invoice.ts";
import { canonicalAddress } from "../../src/wire/names.ts";
import { assertSafeName, bytesOf, fc, refusedOnlyWith, serverAddress, username } from "./_fuzz.ts";

const RUNS = { numRuns: 1500 };
const amount = fc.bigInt({ min: 1n, max: (1n << 64n) - 1n });
const invoice = fc.record({
  seller: fc.record({ username, address: serverAddress.map(canonicalAddress) }),
  amount,
  id: bytesOf(32),
});

/** Near misses: an invoice with one character replaced or inserted. */
const spoiledInvoice = fc
  .tuple(invoice, fc.nat(), fc.constantFrom(..."?&=:@/.%#AZaz09 \n\x00\u0130"), fc.boolean())
  .map(([value, at, char, insert]) => {
    const text = formatInvoice(value);
    const i = at % (text.length + 1);
    return text.slice(0, i) + char + text.slice(insert ? i : i + 1);
  });

Deno.test("any invoice written reads back as itself", () => {
  fc.assert(
    fc.property(invoice, (value) => {
      assert.deepEqual(parseInvoice(formatInvoice(value)), value);
    }),
    RUNS,
  );
});

Deno.test("any text is refused with InvoiceError or is an invoice with safe names", () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), spoiledInvoice), (text) => {
      const parsed = refusedOnlyWith(InvoiceError, () => parseInvoice(text));
      if (parsed === undefined) return;
      assertSafeName(parsed.seller.username, "seller");
      assert.ok(parsed.amount > 0n && parsed.amount < 1n << 64n);
      assert.equal(parsed.id.length, 32);
      assert.deepEqual(parseInvoice(formatInvoice(parsed)), parsed);
    }),
    RUNS,
  );
});
