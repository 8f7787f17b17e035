/**
 * Which neighbours hold payments up (docs/protocol.md §8): a commit, or its resend or query,
 * that the neighbour has left without a word, or with nothing but _waiting_ for too long.
 * Memory only: after a restart the payment timers send again.
 */

import type { Limits } from "../core/config.ts";
import type { HeldUpCounts } from "../store/books.ts";
import type { AccountRef } from "../wire/names.ts";
import { formatAccountRef } from "../wire/names.ts";

/**
 * Per account and neighbour: the payments the neighbour has not answered, with when the first
 * commit or query since its last word went out, and the payments it has not settled either
 * way (no _committed_, _abort_ or claim), with when the first commit went out. A neighbour
 * holds a payment up _silently_ once the first has waited `heldUpAfterMs`, and _waiting_ once
 * the second has waited `waitingAfterMs`, whatever _waiting_ words it sent meanwhile.
 *
 * @example
 * ```ts
 * import { HeldUp } from "./held_up.ts";
 * const heldUp = new HeldUp({ heldUpAfterMs: 5_000, waitingAfterMs: 30_000 });
 * const d = { username: "d", address: "d.example" };
 * heldUp.asked("c", d, "ab12", 1_000);
 * heldUp.count("c", d, 5_999).silent; // 0: the query may still be answered
 * heldUp.count("c", d, 6_000).silent; // 1
 * heldUp.heard("c", d, "ab12", "waiting");
 * heldUp.count("c", d, 31_000); // { silent: 0, waiting: 1 }
 * heldUp.heard("c", d, "ab12");
 * heldUp.count("c", d, 31_000); // { silent: 0, waiting: 0 }
 * ```
 */
export class HeldUp {
  #limits: Pick<Limits, "heldUpAfterMs" | "waitingAfterMs">;
  /** `account neighbour` → payment id → when its first unanswered commit or query went out. */
  #asked = new Map<string, Map<string, number>>();
  /** `account neighbour` → payment id → when its first commit went out, until a decisive word. */
  #unsettled = new Map<string, Map<string, number>>();

  constructor(limits: Pick<Limits, "heldUpAfterMs" | "waitingAfterMs">) {
    this.#limits = limits;
  }

  /** A commit or query about `idHex` went to `neighbour`; the first since its last word counts. */
  asked(username: string, neighbour: AccountRef, idHex: string, now: number): void {
    const key = pairKey(username, neighbour);
    for (const map of [this.#asked, this.#unsettled]) {
      let payments = map.get(key);
      if (payments === undefined) map.set(key, payments = new Map());
      if (!payments.has(idHex)) payments.set(idHex, now);
    }
  }

  /**
   * A word from `neighbour` about `idHex`: _waiting_ stops only the silence clock; any other
   * answer, or the payment's end, stops both.
   */
  heard(
    username: string,
    neighbour: AccountRef | null,
    idHex: string,
    word: "decisive" | "waiting" = "decisive",
  ): void {
    if (neighbour === null) return;
    const key = pairKey(username, neighbour);
    for (const map of word === "waiting" ? [this.#asked] : [this.#asked, this.#unsettled]) {
      const payments = map.get(key);
      if (payments === undefined) continue;
      payments.delete(idHex);
      if (payments.size === 0) map.delete(key);
    }
  }

  /** How many payments `neighbour` holds up at the account at `now`, silently and waiting. */
  count(username: string, neighbour: AccountRef, now: number): HeldUpCounts {
    const key = pairKey(username, neighbour);
    const older = (map: Map<string, Map<string, number>>, ms: number) => {
      let held = 0;
      for (const since of map.get(key)?.values() ?? []) if (now - since >= ms) held++;
      return held;
    };
    return {
      silent: older(this.#asked, this.#limits.heldUpAfterMs),
      waiting: older(this.#unsettled, this.#limits.waitingAfterMs),
    };
  }
}

function pairKey(username: string, neighbour: AccountRef): string {
  return `${username} ${formatAccountRef(neighbour)}`;
}
