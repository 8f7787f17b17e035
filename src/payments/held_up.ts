/**
 * Which neighbours hold payments up (docs/protocol.md §8): a commit, or its resend or query,
 * that the neighbour has left without a word, or with nothing but _waiting_ for too long;
 * and a lock that it has left without _locked_ or _abort_ for too long.
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
 * Silence is judged per server (docs/protocol.md §8): every neighbour on the server that
 * left one of this server's payments without a word counts it, since silence is the server's
 * doing (it is down, or it chose not to answer), not one account's. Waiting stays per pair.
 *
 * @example
 * ```ts
 * import { HeldUp } from "./held_up.ts";
 * const heldUp = new HeldUp({
 *   heldUpAfterMs: 5_000,
 *   waitingAfterMs: 30_000,
 *   slowLockAfterMs: 3_000,
 * });
 * const d = { username: "d", address: "d.example" };
 * const e = { username: "e", address: "d.example" };
 * heldUp.asked("c", d, "ab12", 1_000);
 * heldUp.count("c", d, 5_999).silent; // 0: the query may still be answered
 * heldUp.count("c", d, 6_000).silent; // 1
 * heldUp.count("x", e, 6_000).silent; // 1: the same server
 * heldUp.heard("c", d, "ab12", "waiting");
 * heldUp.count("c", d, 31_000); // { silent: 0, waiting: 1, slow: 0 }
 * heldUp.count("x", e, 31_000); // { silent: 0, waiting: 0, slow: 0 }
 * heldUp.heard("c", d, "ab12");
 * heldUp.count("c", d, 31_000); // { silent: 0, waiting: 0, slow: 0 }
 * heldUp.lockSent("c", d, "cd34", 40_000);
 * heldUp.count("c", d, 43_000).slow; // 1: no locked for 3 s
 * ```
 */
export class HeldUp {
  #limits: Pick<Limits, "heldUpAfterMs" | "waitingAfterMs" | "slowLockAfterMs">;
  /**
   * The neighbour's server address → `account neighbour payment id` → when the first
   * unanswered commit or query about the payment went out.
   */
  #asked = new Map<string, Map<string, number>>();
  /** `account neighbour` → payment id → when its first commit went out, until a decisive word. */
  #unsettled = new Map<string, Map<string, number>>();
  /** `account neighbour` → payment id → when its lock first went out, until locked or the end. */
  #locking = new Map<string, Map<string, number>>();

  constructor(limits: Pick<Limits, "heldUpAfterMs" | "waitingAfterMs" | "slowLockAfterMs">) {
    this.#limits = limits;
  }

  /** A commit or query about `idHex` went to `neighbour`; the first since its last word counts. */
  asked(username: string, neighbour: AccountRef, idHex: string, now: number): void {
    for (const [map, outer, inner] of this.#clocks(username, neighbour, idHex)) {
      startClock(map, outer, inner, now);
    }
  }

  /**
   * A lock of `idHex` went to `neighbour`; a resend keeps the first one's time (after a
   * restart, the first resend starts the clock again).
   */
  lockSent(username: string, neighbour: AccountRef, idHex: string, now: number): void {
    startClock(this.#locking, pairKey(username, neighbour), idHex, now);
  }

  /** `neighbour` answered the lock of `idHex` with _locked_: only the lock's clock stops. */
  lockAnswered(username: string, neighbour: AccountRef, idHex: string): void {
    stopClock(this.#locking, pairKey(username, neighbour), idHex);
  }

  /**
   * A word from `neighbour` about `idHex`: _waiting_ stops only the silence clock; any other
   * answer, or the payment's end, stops every clock.
   */
  heard(
    username: string,
    neighbour: AccountRef | null,
    idHex: string,
    word: "decisive" | "waiting" = "decisive",
  ): void {
    if (neighbour === null) return;
    const [silence, unsettled] = this.#clocks(username, neighbour, idHex);
    for (const [map, outer, inner] of word === "waiting" ? [silence] : [silence, unsettled]) {
      stopClock(map, outer, inner);
    }
    if (word !== "waiting") this.lockAnswered(username, neighbour, idHex);
  }

  /** Where a payment's two clocks live: silence per neighbour's server, the other per pair. */
  #clocks(username: string, neighbour: AccountRef, idHex: string): Clock[] {
    const key = pairKey(username, neighbour);
    return [[this.#asked, neighbour.address, `${key} ${idHex}`], [this.#unsettled, key, idHex]];
  }

  /**
   * How many payments `neighbour` holds up at the account at `now`: silently, those of any
   * account here that any account on the neighbour's server left without a word; waiting,
   * the account's own with this neighbour; slow, the account's locks to this neighbour
   * unanswered for `slowLockAfterMs`.
   */
  count(username: string, neighbour: AccountRef, now: number): HeldUpCounts {
    const older = (payments: Map<string, number> | undefined, ms: number) => {
      let held = 0;
      for (const since of payments?.values() ?? []) if (now - since >= ms) held++;
      return held;
    };
    return {
      silent: older(this.#asked.get(neighbour.address), this.#limits.heldUpAfterMs),
      waiting: older(
        this.#unsettled.get(pairKey(username, neighbour)),
        this.#limits.waitingAfterMs,
      ),
      slow: older(this.#locking.get(pairKey(username, neighbour)), this.#limits.slowLockAfterMs),
    };
  }
}

/** One clock's place: its map, the outer key and the inner key. */
type Clock = [Map<string, Map<string, number>>, string, string];

/** Starts a clock (`outer` → `inner` → since) unless it runs already. */
export function startClock(
  map: Map<string, Map<string, number>>,
  outer: string,
  inner: string,
  now: number,
) {
  let payments = map.get(outer);
  if (payments === undefined) map.set(outer, payments = new Map());
  if (!payments.has(inner)) payments.set(inner, now);
}

/** Stops a clock, and forgets `outer` once it has none. */
export function stopClock(
  map: Map<string, Map<string, number>>,
  outer: string,
  inner: string,
): void {
  const payments = map.get(outer);
  if (payments === undefined) return;
  payments.delete(inner);
  if (payments.size === 0) map.delete(outer);
}

function pairKey(username: string, neighbour: AccountRef): string {
  return `${username} ${formatAccountRef(neighbour)}`;
}
