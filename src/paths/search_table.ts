/** The in-memory state of path searches, per account and payment id, bounded and with time limits. */

import { type AccountRef, formatAccountRef } from "../wire/names.ts";
import type { Label } from "./labels.ts";

/**
 * Front 0 grows from the buyer along the direction of payment; front 1 from the seller
 * against it. "Front" 2 names the directed walk in search end (server 142).
 */
export const Front = { Out: 0, In: 1, Walk: 2 } as const;
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
  /**
   * Nothing can grow, but a per-neighbour limit (docs/protocol.md §8) refused some branch:
   * the sender, or an account below it, holds all the searches it takes from one neighbour.
   */
  Capped: 7,
} as const;

/**
 * A child's standing in its parent's eyes. `late`: it has not reported the round a quarter
 * of the probe time-out after it was sent, so the round goes on without it, counting it
 * as alive (docs/protocol.md §5, Rounds).
 */
export type ChildStatus = "pending" | "late" | "alive" | "limited" | "capped" | "done" | "found";

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
  /** When children that have not reported the current round become late. */
  lateAt: number;
  attempts: number;
  /** The last report sent to the parent, repeated if the parent asks again. */
  reported: { round: number; status: number } | null;
  /** Whether a path through this account is known in this front. */
  found: boolean;
  /** Whether a per-neighbour limit closed one of this account's own edges in this front. */
  capped: boolean;
  /** At the seller: its flood waits until `deadline` for the buyer's walk (§5.2). */
  deferred: boolean;
}

/** What a directed walk reports to the account it came from. */
export const WalkStatus = {
  /** A path to the seller runs through the sender. */
  Found: 1,
  /** Nothing closer to the seller with room could be reached from the sender. */
  Dead: 2,
} as const;

/** This account's part in a directed walk towards the seller (docs/protocol.md §5.2). */
export interface WalkState {
  /** The account the walk came from; null at the buyer. */
  parent: AccountRef | null;
  target: Label;
  /** The trees whose least distance the walk follows, as a bit mask (bit t: tree t). */
  tree: number;
  /**
   * Whether this part of the walk may still step once to a peer further from the seller
   * when none as near is open (the detour of §5.2), and whether the child now tried is that step.
   */
  detour: boolean;
  detouring: boolean;
  /** At the buyer, which of its walks in turn this is (§5.2, Fallback); 0 elsewhere. */
  step: number;
  hops: number;
  /** Accounts this part of the walk was given, itself included, and those not yet used. */
  received: number;
  left: number;
  /** Peers already tried, by refKey. */
  tried: Set<string>;
  /** The peer being tried, then, once found, the next account on the path. */
  child: AccountRef | null;
  found: boolean;
  dead: boolean;
  deadline: number;
  attempts: number;
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
  /** The neighbour whose probe made this account hold the search; null for its own payment. */
  opener: AccountRef | null;
  /** This account's part in the directed walk, if it is on one. */
  walk?: WalkState;
  /** When this account took the search up. */
  startedAt: number;
  /** At the buyer: when its flood started (the seller's front is given as long again). */
  floodStartedAt: number;
  /**
   * At the buyer: its flood has explored everything within its depth limit without meeting
   * the seller's front, and the search ends at `expiresAt` as "no path within the hop limit".
   */
  depthLimited: boolean;
}

/** Why an account cannot hold one more search. */
export type NoRoom =
  /** It holds as many as it takes part in at once. */
  | "full"
  /** The neighbour asking holds its share. */
  | "neighbour"
  /** Its neighbours together hold all but the slots kept for its own payments. */
  | "neighbours";

/** The limits a {@linkcode SearchTable} keeps, per account. */
export interface SearchTableLimits {
  /** Searches at once. */
  maxPerAccount: number;
  /** Slots only the account's own payments may use (at most half of them). */
  ownReserved: number;
  /** How many one neighbour may open at the account. */
  perNeighbour(username: string, neighbour: AccountRef): number;
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
    lateAt: Infinity,
    attempts: 0,
    reported: null,
    found: false,
    capped: false,
    deferred: false,
  };
}

/** The key of an account in child maps and sets. */
export function refKey(ref: AccountRef): string {
  return formatAccountRef(ref);
}

/**
 * Search states by account and payment id. Each account holds at most `maxPerAccount`,
 * of which its neighbours together may open all but `ownReserved`, and each one of them
 * its `perNeighbour` share; a state is dropped by its account's timer at `expiresAt` at
 * the latest.
 *
 * @example
 * ```ts
 * import { SearchTable } from "./search_table.ts";
 * const table = new SearchTable({ maxPerAccount: 2, ownReserved: 1, perNeighbour: () => 1 });
 * table.noRoom("alice", null); // null: there is room
 * ```
 */
export class SearchTable {
  #accounts = new Map<string, Map<string, SearchState>>();
  /** Per account: how many searches each neighbour opened (by refKey), and their sum. */
  #opened = new Map<string, { total: number; by: Map<string, number> }>();
  readonly limits: SearchTableLimits;

  constructor(limits: SearchTableLimits) {
    this.limits = limits;
  }

  get(username: string, idHex: string): SearchState | undefined {
    return this.#accounts.get(username)?.get(idHex);
  }

  /** Why the account may not hold one more search opened by `opener` (null: its own); null if it may. */
  noRoom(username: string, opener: AccountRef | null): NoRoom | null {
    if ((this.#accounts.get(username)?.size ?? 0) >= this.limits.maxPerAccount) return "full";
    if (opener === null) return null;
    const opened = this.#opened.get(username);
    if ((opened?.by.get(refKey(opener)) ?? 0) >= this.limits.perNeighbour(username, opener)) {
      return "neighbour";
    }
    // The reserve never takes more than half of the slots.
    const reserved = Math.min(this.limits.ownReserved, Math.floor(this.limits.maxPerAccount / 2));
    if ((opened?.total ?? 0) >= this.limits.maxPerAccount - reserved) {
      return "neighbours";
    }
    return null;
  }

  /** How many searches `neighbour` opened at the account (for the simulator's checks). */
  openedBy(username: string, neighbour: AccountRef): number {
    return this.#opened.get(username)?.by.get(refKey(neighbour)) ?? 0;
  }

  /** Whether the account holds any search. */
  has(username: string): boolean {
    return this.#accounts.has(username);
  }

  set(username: string, state: SearchState): void {
    let searches = this.#accounts.get(username);
    if (searches === undefined) this.#accounts.set(username, searches = new Map());
    if (searches.has(state.idHex)) this.#count(username, searches.get(state.idHex)!, -1);
    searches.set(state.idHex, state);
    this.#count(username, state, 1);
  }

  delete(username: string, idHex: string): void {
    const searches = this.#accounts.get(username);
    const state = searches?.get(idHex);
    if (state === undefined) return;
    searches!.delete(idHex);
    this.#count(username, state, -1);
    if (searches!.size === 0) this.#accounts.delete(username);
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

  #count(username: string, state: SearchState, delta: 1 | -1): void {
    if (state.opener === null) return;
    let opened = this.#opened.get(username);
    if (opened === undefined) this.#opened.set(username, opened = { total: 0, by: new Map() });
    const key = refKey(state.opener);
    const count = (opened.by.get(key) ?? 0) + delta;
    if (count === 0) opened.by.delete(key);
    else opened.by.set(key, count);
    opened.total += delta;
    if (opened.total === 0) this.#opened.delete(username);
  }
}
