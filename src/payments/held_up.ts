/**
 * Which neighbours hold payments up (docs/protocol.md §8): a commit, or its resend or query,
 * that the neighbour has left without a word. Memory only: after a restart the payment timers
 * send again.
 */

import type { AccountRef } from "../wire/names.ts";
import { formatAccountRef } from "../wire/names.ts";

/**
 * Per account and neighbour: the payments the neighbour has not answered, with when the first
 * commit or query since its last word went out. A neighbour holds a payment up once that has
 * waited `answerWithinMs` without a word about the payment from it.
 *
 * @example
 * ```ts
 * import { HeldUp } from "./held_up.ts";
 * const heldUp = new HeldUp(5_000);
 * const d = { username: "d", address: "d.example" };
 * heldUp.asked("c", d, "ab12", 1_000);
 * heldUp.count("c", d, 5_999); // 0: the query may still be answered
 * heldUp.count("c", d, 6_000); // 1
 * heldUp.heard("c", d, "ab12");
 * heldUp.count("c", d, 7_000); // 0
 * ```
 */
export class HeldUp {
  #answerWithinMs: number;
  /** `account neighbour` → payment id → when its first unanswered commit or query went out. */
  #asked = new Map<string, Map<string, number>>();

  constructor(answerWithinMs: number) {
    this.#answerWithinMs = answerWithinMs;
  }

  /** A commit or query about `idHex` went to `neighbour`; the first since its last word counts. */
  asked(username: string, neighbour: AccountRef, idHex: string, now: number): void {
    const key = pairKey(username, neighbour);
    let payments = this.#asked.get(key);
    if (payments === undefined) this.#asked.set(key, payments = new Map());
    if (!payments.has(idHex)) payments.set(idHex, now);
  }

  /** A word from `neighbour` about `idHex` (any answer), or the payment ended. */
  heard(username: string, neighbour: AccountRef | null, idHex: string): void {
    if (neighbour === null) return;
    const key = pairKey(username, neighbour);
    const payments = this.#asked.get(key);
    if (payments === undefined) return;
    payments.delete(idHex);
    if (payments.size === 0) this.#asked.delete(key);
  }

  /** How many payments `neighbour` holds up at the account at `now`. */
  count(username: string, neighbour: AccountRef, now: number): number {
    let held = 0;
    for (const since of this.#asked.get(pairKey(username, neighbour))?.values() ?? []) {
      if (now - since >= this.#answerWithinMs) held++;
    }
    return held;
  }
}

function pairKey(username: string, neighbour: AccountRef): string {
  return `${username} ${formatAccountRef(neighbour)}`;
}
