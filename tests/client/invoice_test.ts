import assert from "node:assert/strict";
import { formatInvoice, InvoiceError, parseInvoice } from "../../src/client/invoice.ts";

const ID = "0123456789abcdef".repeat(4);
const carol = { username: "carol", address: "127.0.0.4:4000" };

Deno.test("an invoice names the seller, the amount and the id, and reads back", () => {
  const id = Uint8Array.from(ID.match(/../g)!.map((hex) => parseInt(hex, 16)));
  const text = formatInvoice({ seller: carol, amount: 25n, id });
  assert.equal(text, `ripple:carol@127.0.0.4:4000?amount=25&id=${ID}`);
  assert.deepEqual(parseInvoice(`  ${text}\n`), { seller: carol, amount: 25n, id });
});

Deno.test("the seller's address is read canonically", () => {
  const invoice = parseInvoice(`ripple:carol@127.0.0.4:2012?amount=1&id=${ID}`);
  assert.deepEqual(invoice.seller, { username: "carol", address: "127.0.0.4" });
});

Deno.test("anything that is not an invoice is refused, saying what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["", /starts with "ripple:"/],
    [`carol@127.0.0.4?amount=1&id=${ID}`, /starts with "ripple:"/],
    [`ripple:carol@127.0.0.4`, /ripple:SELLER\?amount/],
    [`ripple:carol@127.0.0.4?amount=1&id=${ID}?x`, /ripple:SELLER\?amount/],
    [`ripple:Carol@127.0.0.4?amount=1&id=${ID}`, /the seller: invalid username/],
    [`ripple:carol@../x?amount=1&id=${ID}`, /the seller: invalid host/],
    [`ripple:carol@127.0.0.4?amount=0&id=${ID}`, /whole number above zero/],
    [`ripple:carol@127.0.0.4?amount=01&id=${ID}`, /whole number above zero/],
    [`ripple:carol@127.0.0.4?amount=-1&id=${ID}`, /whole number above zero/],
    [`ripple:carol@127.0.0.4?amount=${1n << 64n}&id=${ID}`, /whole number above zero/],
    [`ripple:carol@127.0.0.4?amount=1&id=${ID.toUpperCase()}`, /64 lower-case hex/],
    [`ripple:carol@127.0.0.4?amount=1&id=${ID}00`, /64 lower-case hex/],
    [`ripple:carol@127.0.0.4?amount=1&amount=2&id=${ID}`, /"amount" appears twice/],
    [`ripple:carol@127.0.0.4?amount=1&id=${ID}&memo=x`, /nothing else/],
    [`ripple:carol@127.0.0.4?amount=1`, /nothing else/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseInvoice(text), (error) => {
      assert.ok(error instanceof InvoiceError, text);
      assert.match(error.message, message, text);
      return true;
    });
  }
});

Deno.test("an invoice may carry the seller's routing label, which reads back whole", () => {
  const id = new Uint8Array(32).fill(7);
  const label = new Uint8Array(207);
  label.set([0, 0, 0, 9, 2, 0xff, 0xfe, 0x01, 0x02], 0);
  const text = formatInvoice({ seller: carol, amount: 5n, id, label });
  assert.match(text, /&label=[A-Za-z0-9_-]+$/);
  assert.ok(text.length < 140, "trailing zero bytes are left out");
  assert.deepEqual(parseInvoice(text), { seller: carol, amount: 5n, id, label });
  for (const bad of ["a+b", "x".repeat(300)]) {
    assert.throws(
      () => parseInvoice(`ripple:carol@127.0.0.4?amount=1&id=${ID}&label=${bad}`),
      InvoiceError,
    );
  }
  assert.throws(() => parseInvoice(`ripple:carol@127.0.0.4?amount=1&label=AAAA`), /nothing else/);
});

Deno.test("an invoice may say that its id is a receipt's, and only as receipt=1", () => {
  const id = new Uint8Array(32).fill(3);
  const label = new Uint8Array(207);
  label.set([0, 0, 0, 1, 1, 0, 2], 0);
  const text = formatInvoice({ seller: carol, amount: 5n, id, label, receipt: true });
  assert.match(text, /&label=[A-Za-z0-9_-]+&receipt=1$/);
  assert.deepEqual(parseInvoice(text), { seller: carol, amount: 5n, id, label, receipt: true });
  const bare = `ripple:carol@127.0.0.4?amount=1&id=${ID}&receipt=1`;
  assert.equal(parseInvoice(bare).receipt, true, "without a label too");
  assert.equal(parseInvoice(`ripple:carol@127.0.0.4?amount=1&id=${ID}`).receipt, undefined);
  for (const bad of ["0", "yes", ""]) {
    assert.throws(
      () => parseInvoice(`ripple:carol@127.0.0.4?amount=1&id=${ID}&receipt=${bad}`),
      /receipt is 1/,
    );
  }
});
