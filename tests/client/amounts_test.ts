import assert from "node:assert/strict";
import fc from "fast-check";
import {
  AmountError,
  describeUnit,
  formatAmount,
  formatDecimal,
  MAX_AMOUNT,
  parseAmount,
} from "../../src/client/amounts.ts";

const HOURS = { unit: "hours", decimals: 2 };
const PLAIN = { unit: "", decimals: 0 };

Deno.test("amounts are shown in the server's unit with its decimal places", () => {
  assert.equal(formatAmount(2550n, HOURS), "25.50 hours");
  assert.equal(formatAmount(5n, HOURS), "0.05 hours");
  assert.equal(formatAmount(-2550n, HOURS), "-25.50 hours");
  assert.equal(formatAmount(25n, PLAIN), "25");
  assert.equal(formatDecimal(MAX_AMOUNT, 18), "18.446744073709551615");
});

Deno.test("amounts are read in the server's unit: 25, 25.5 and 25.50 hours are 2550", () => {
  for (const text of ["25.5", "25.50", " 25.5 "]) assert.equal(parseAmount(text, HOURS), 2550n);
  assert.equal(parseAmount("25", HOURS), 2500n);
  assert.equal(parseAmount("0", PLAIN), 0n);
  assert.equal(parseAmount("18446744073709551615", PLAIN), MAX_AMOUNT);
});

Deno.test("a bad amount is refused with what an amount looks like here", () => {
  const message = (text: string, display = HOURS) => {
    try {
      parseAmount(text, display);
    } catch (error) {
      assert.ok(error instanceof AmountError);
      return error.message;
    }
    assert.fail(`"${text}" was accepted`);
  };
  assert.match(message("-5"), /cannot be negative/);
  assert.match(message("abc"), /not an amount: write a number such as 12\.50/);
  assert.match(message("25.125"), /more than the server's 2 decimal places/);
  assert.match(message("25.5", PLAIN), /whole numbers/);
  assert.match(message("18446744073709551616", PLAIN), /more than the largest amount/);
  assert.match(message("9".repeat(200), PLAIN), /more than the largest amount/);
  assert.match(message("1,5"), /not an amount/);
});

Deno.test("describeUnit says what amounts look like", () => {
  assert.equal(describeUnit(HOURS), "hours, with 2 decimal places (e.g. 12.50)");
  assert.equal(describeUnit({ unit: "EUR", decimals: 0 }), "whole EUR (e.g. 12)");
  assert.equal(describeUnit(PLAIN), "whole numbers (e.g. 12)");
});

Deno.test("every amount reads back as itself, in any number of decimal places", () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: MAX_AMOUNT }),
      fc.integer({ min: 0, max: 18 }),
      (amount, decimals) => {
        const display = { unit: "u", decimals };
        assert.equal(parseAmount(formatDecimal(amount, decimals), display), amount);
      },
    ),
  );
});
