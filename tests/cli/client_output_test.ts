import assert from "node:assert/strict";
import { describeWait, printPayment } from "../../src/cli/client_output.ts";
import type { PaymentStatus, PaymentWait } from "../../src/client/commands.ts";

const HOURS = { unit: "hours", decimals: 2 };
const BOB = { username: "bob", address: "b.example" };
const AT = Date.UTC(2026, 11, 2, 10);

Deno.test("an overdue payment says whom it waits on, what the wait has cost it so far and when it ends", () => {
  const wait: PaymentWait = {
    on: BOB,
    kind: "answer",
    due: AT,
    overdue: true,
    released: 1250n,
    endsBy: AT + 3 * 86_400_000,
  };
  assert.equal(
    describeWait(wait, 4000n, HOURS),
    "overdue: waiting on bob@b.example for its answer since 2026-12-02T10:00:00.000Z; " +
      "12.50 hours of 40.00 hours released so far, at its expense; " +
      "ends by 2026-12-05T10:00:00.000Z",
  );
  assert.match(describeWait({ ...wait, overdue: false }, 4000n, HOURS), /from 2026-12-02T10:00/);
  assert.match(
    describeWait({ ...wait, kind: "finalize" }, 4000n, HOURS),
    /bob@b\.example has not finalized; it is being claimed/,
  );
});

Deno.test("get payment prints the wait under the state, and in the JSON", () => {
  const status: PaymentStatus = {
    state: 4,
    amount: 4000n,
    role: 1,
    reason: 0,
    updatedAt: AT,
    wait: { on: BOB, kind: "answer", due: AT, overdue: true, released: 0n, endsBy: AT + 1 },
    receipt: null,
  };
  const printed: [string, Record<string, unknown>][] = [];
  printPayment(new Uint8Array(32), status, HOURS, (human, json) => printed.push([human, json]));
  const [human, json] = printed[0];
  assert.match(human, /committing \(buyer, 40\.00 hours\)\n {2}overdue: waiting on bob@b\.example/);
  assert.deepEqual((json.wait as Record<string, unknown>).on, "bob@b.example");
});

Deno.test("a completed payment prints the seller's receipt, and the JSON carries it", () => {
  const status: PaymentStatus = {
    state: 6,
    amount: 4000n,
    role: 1,
    reason: 0,
    updatedAt: AT,
    wait: null,
    receipt: new Uint8Array(32).fill(0xab),
  };
  const printed: [string, Record<string, unknown>][] = [];
  printPayment(new Uint8Array(32), status, HOURS, (human, json) => printed.push([human, json]));
  const [human, json] = printed[0];
  assert.match(human, /completed \(buyer, 40\.00 hours\)\n {2}receipt: (ab){32}$/);
  assert.equal(json.receipt, "ab".repeat(32));
});
