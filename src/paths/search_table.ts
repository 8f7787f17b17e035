/** The in-memory state of path searches, per account and payment id, bounded and with time limits. */

import { type AccountRef, formatAccountRef } from "../wire/names.ts";

/** Front 0 grows from the buyer along the direction of payment; front 1 from the seller against it. */
export const Front = { Out: 0, In: 1 } as const;
/** One of the two {@linkcode Front}s. */
export type FrontId = 0 | 1;

/** What a subtree reports to its parent after a round; see docs/protocol.md. */
export const Report = {
  /** The sender's subtree can still grow next round. */
  Alive: 1,
  /** Nothing can grow, but the depth limit stopped some branch. */
  Limited: 2,
  /** Nothing is left to explore below the sender. */
  Done: 3,
  /** The sender already belongs to this front through another parent. */
  Visited: 4,
  /** A path runs through the sender. */
  Found: 5,
  /** The sender will not take part (not enough credit on its side, or too many searches). */
  Refused: 6,
} as const;

/** A child's standing in its parent's eyes. */
export type ChildStatus = "pending" | "alive" | "limited" | "done" | "found";

/** A neighbour probed by this account in its front. */
export interface Child {
  ref: AccountRef;
  status: ChildStatus;
}

/** This account's place in one front of one search. */
export interface FrontState {
  /** The neighbour the front reached us from; null at the root. */
  parent: AccountRef | null;
  depth: number;
  /** Whether this account has probed its own neighbours yet. */
  expanded: boolean;
  children: Map<string, Child>;
  /** The round being collected, or the last one. */
  round: number;
  /** When to resend the probes of the current round to children that have not reported. */
  deadline: number;
  attempts: number;
  /** The last report sent to the parent, repeated if the parent asks again. */
  reported: { round: number; status: number } | null;
  /** Whether a path through this account is known in this front. */
  found: boolean;
}

/** Everything one account knows about one search. */
export interface SearchState {
  id: Uint8Array;
  idHex: string;
  amount: bigint;
  expiresAt: number;
  fronts: [FrontState | undefined, FrontState | undefined];
  /** Where a lock arriving from the out-front parent goes next. */
  downstream: AccountRef | null;
  /** Set at a root once its search ended, so the outcome is reported once. */
  ended: boolean;
}

/** A new front state reached from `parent` (null for a root) at `depth`. */
export function newFront(parent: AccountRef | null, depth: number): FrontState {
  return {
    parent,
    depth,
    expanded: false,
    children: new Map(),
    round: depth,
    deadline: Infinity,
    attempts: 0,
    reported: null,
    found: false,
  };
}

/** Whether two account references name the same account. */
export function sameAccount(a: AccountRef | null, b: AccountRef | null): boolean {
  return a !== null && b !== null && a.username === b.username && a.address === b.address;
}

/** The key of an account in child maps and sets. */
export function refKey(ref: AccountRef): string {
  return formatAccountRef(ref);
}

/**
 * Search states by account and payment id. Each account holds at most `maxPerAccount`;
 * a state is dropped by its account's timer at `expiresAt` at the latest.
 *
 * @example
 * ```ts
 * import { SearchTable } from "./search_table.ts";
 * const table = new SearchTable(2);
 * table.has("alice"); // false
 * ```
 */
export class SearchTable {
  #accounts = new Map<string, Map<string, SearchState>>();
  readonly maxPerAccount: number;

  constructor(maxPerAccount: number) {
    this.maxPerAccount = maxPerAccount;
  }

  get(username: string, idHex: string): SearchState | undefined {
    return this.#accounts.get(username)?.get(idHex);
  }

  /** Whether the account may hold one more search. */
  hasRoom(username: string): boolean {
    return (this.#accounts.get(username)?.size ?? 0) < this.maxPerAccount;
  }

  /** Whether the account holds any search. */
  has(username: string): boolean {
    return this.#accounts.has(username);
  }

  set(username: string, state: SearchState): void {
    let searches = this.#accounts.get(username);
    if (searches === undefined) this.#accounts.set(username, searches = new Map());
    searches.set(state.idHex, state);
  }

  delete(username: string, idHex: string): void {
    const searches = this.#accounts.get(username);
    searches?.delete(idHex);
    if (searches?.size === 0) this.#accounts.delete(username);
  }

  /** The searches of one account. */
  of(username: string): SearchState[] {
    return [...(this.#accounts.get(username)?.values() ?? [])];
  }

  /** Every search held, with its account (for status and the simulator's checks). */
  *all(): Iterable<[string, SearchState]> {
    for (const [username, searches] of this.#accounts) {
      for (const state of searches.values()) yield [username, state];
    }
  }
}
