/**
 * The path search: two fronts, one from the buyer and one from the seller, each deepening
 * one hop per round and returning to its root between rounds; where they meet, a path.
 */

import { toHex } from "../auth/keys.ts";
import { type Limits, type PeerLimits, peerLimitsFor } from "../core/config.ts";
import type { Context } from "../core/context.ts";
import { type HeldUpCounts, payable, readBooks, receivable, transitLimit } from "../store/books.ts";
import { listPeers } from "../store/paths.ts";
import {
  searchArgs,
  searchEndArgs,
  searchReportArgs,
  walkArgs,
  walkReportArgs,
} from "../wire/arguments.ts";
import { ServerCommand } from "../wire/commands.ts";
import { type AccountRef, formatAccountRef, sameAccount } from "../wire/names.ts";
import {
  decodeLabel,
  encodeLabel,
  hasLabel,
  type Label,
  labelDistance,
  LabelTable,
} from "./labels.ts";
import { ALL_TREES } from "./labels.ts";
import {
  type ChildStatus,
  Front,
  type FrontId,
  type FrontState,
  newFront,
  type NoRoom,
  refKey,
  Report,
  type SearchState,
  SearchTable,
  type WalkState,
  WalkStatus,
} from "./search_table.ts";

/** Limits of the search; see {@linkcode Limits} for each. */
export type SearchLimits = Pick<
  Limits,
  | "searchTimeoutMs"
  | "maxDepth"
  | "maxSearchesPerAccount"
  | "probeTimeoutMs"
  | "probeRetries"
  | "labelTrees"
  | "walkBudget"
  | "walkWaitMs"
  | "commitDeadlineMs"
  | "commitMarginMs"
  | "ownSearchesReserved"
  | keyof PeerLimits
  | "peerOverrides"
>;

/** How many payments `peer` holds up at account `username` at `now` (docs/protocol.md §8). */
export type HeldUpCount = (username: string, peer: AccountRef, now: number) => HeldUpCounts;

const NONE_HELD: HeldUpCounts = { silent: 0, waiting: 0, slow: 0 };

/** The end of a search at a root. */
export type Outcome =
  | { kind: "found"; idHex: string; front: FrontId; downstream: AccountRef | null }
  | {
    kind: "failed";
    idHex: string;
    front: FrontId;
    /**
     * `capped`: nothing left to explore but what a per-neighbour limit refused; `depth`:
     * nothing met within the hop limit.
     */
    reason: "no-path" | "capped" | "depth" | "timeout";
  };

/** A search message's arguments. */
export interface SearchMessage {
  id: Uint8Array;
  amount: bigint;
  front: number;
  round: number;
}

/**
 * Thrown when a root cannot start a search; the message is for the client. `busy` says
 * whether trying again later can help (too many searches) or not (the id is taken).
 */
export class SearchRefused extends Error {
  override name = "SearchRefused";
  readonly busy: boolean;
  constructor(message: string, options: { busy: boolean }) {
    super(message);
    this.busy = options.busy;
  }
}

const STATUS_OF: Record<number, ChildStatus> = {
  [Report.Alive]: "alive",
  [Report.Limited]: "limited",
  [Report.Done]: "done",
  [Report.Visited]: "done",
  [Report.Refused]: "done",
  [Report.Capped]: "capped",
  [Report.Found]: "found",
};

/**
 * The share of the probe time-out after which a child that has not reported its round is
 * late, and the round goes on without it (docs/protocol.md §5, Rounds).
 */
const LATE_SHARE = 1 / 4;

/** The least a depth-limited buyer waits for the seller's front, whatever its own took. */
const MIN_SETTLE_MS = 200;

/**
 * The walks a buyer starts in turn before the flood (§5.2): by all trees; by all trees
 * again, leaving by the peers the first left untried, those further from the seller too
 * (`away`); then by each tree alone and each pair, which measure distance differently, so
 * lead other ways round a dead end.
 */
const WALKS: readonly { trees: number; away: boolean }[] = [
  { trees: ALL_TREES, away: false },
  { trees: ALL_TREES, away: true },
  ...[0b001, 0b010, 0b100, 0b011, 0b101, 0b110].map((trees) => ({ trees, away: false })),
];

/**
 * The share of `walk_budget` the walk leaving away from the seller gets: at 16,000 accounts
 * it seldom finds the seller, and with the whole budget it spent the time the walks by
 * fewer trees after it needed (docs/benchmarks.md).
 */
const AWAY_BUDGET_SHARE = 1 / 4;

/**
 * Bit 3 of a walk's tree byte: its detour is spent (§5.2). Tree masks use bits 0-2, so a
 * walk by all trees as an older server sends it (255) has none, and a mask read off the
 * wire keeps its meaning with the bit cleared.
 */
const DETOUR_SPENT = 0b1000;

const NO_ROOM_WORDS: Record<NoRoom, string> = {
  full: "searches at this account",
  neighbour: "searches from one neighbour",
  neighbours: "searches from neighbours (the rest is kept for the account's own payments)",
};

/**
 * Runs the search messages of every account of a server. It keeps only memory: after a
 * restart searches in flight are gone, and their roots report a failure.
 */
export class SearchEngine {
  readonly table: SearchTable;
  readonly labels: LabelTable;
  #limits: SearchLimits;
  /** The longest walk: each hop shortens the commit deadline by a margin (§9), so a walk stops while a quarter of it is left. */
  readonly maxWalkHops: number;

  /** How many payments a neighbour holds up at an account (§8), as the payment steps count them. */
  readonly heldUp: HeldUpCount;

  /**
   * Why walks ended where they did, counted since the start (memory only, for studies):
   * a part of a walk that found no peer to pass to, by why (`noCloser`: every untried peer
   * nearer the seller, or as near, was tried or had no label; `hops`, `budget`); peers
   * passed over because the edge was `closed` by the books or `capped` by a limit of §8;
   * walks answered dead at once by the receiver (`refused`: its side, its room, or it held
   * the walk already). At the buyer: walks started again (`retries`, of them past
   * `walk_wait_ms`: `lateRetries`), walks that left by a peer further from the seller and
   * found it (`awayFound`), and the flood started with walks left untried because twice
   * `walk_wait_ms` had passed (`timeCut`) or with none left (`exhausted`). Walks met by the
   * seller's front where they passed (`metFront`). Detours taken (`detours`), and those
   * that led to the seller (`detoursFound`).
   */
  readonly walkEnds = {
    noCloser: 0,
    hops: 0,
    budget: 0,
    closed: 0,
    capped: 0,
    refused: 0,
    retries: 0,
    lateRetries: 0,
    awayFound: 0,
    timeCut: 0,
    exhausted: 0,
    metFront: 0,
    detours: 0,
    detoursFound: 0,
  };

  /**
   * Whether walks rooted or passing here may take their detour (§5.2): off, since in the
   * path study at 16,000 accounts it made walks outlast the seller's hold-back (more
   * fallbacks, docs/benchmarks.md); a study turns it on.
   */
  detour = false;

  constructor(limits: SearchLimits, labels?: LabelTable, heldUp: HeldUpCount = () => NONE_HELD) {
    this.#limits = limits;
    this.heldUp = heldUp;
    this.labels = labels ?? new LabelTable(0, "");
    this.maxWalkHops = walkHopLimit(limits);
    this.table = new SearchTable({
      maxPerAccount: limits.maxSearchesPerAccount,
      ownReserved: limits.ownSearchesReserved,
      perNeighbour: (username, neighbour) =>
        peerLimitsFor(limits, username, formatAccountRef(neighbour)).peerSearches,
    });
  }

  /** Starts the front of a root (the buyer's out-front or the seller's in-front). */
  async start(
    ctx: Context,
    id: Uint8Array,
    idHex: string,
    amount: bigint,
    front: FrontId,
    target: Label = [],
  ): Promise<Outcome | null> {
    let state = this.table.get(ctx.username, idHex);
    if (state !== undefined && (state.amount !== amount || state.fronts[front] !== undefined)) {
      throw new SearchRefused(
        "this payment id is already being searched with another amount or role",
        { busy: false },
      );
    }
    if (state === undefined) {
      if (this.table.noRoom(ctx.username, null) !== null) {
        throw new SearchRefused("too many searches in flight for this account", { busy: true });
      }
      state = this.#create(ctx, id, idHex, amount, null);
    }
    const walking = this.labels.trees > 0 && this.maxWalkHops > 0;
    if (front === Front.Out && walking && hasLabel(target)) {
      const budget = this.#limits.walkBudget;
      state.walk = newWalk(null, target, ALL_TREES, 0, budget, this.detour);
      return await this.#walkOn(ctx, state);
    }
    state.fronts[front] = newFront(null, 0);
    if (state.fronts[1 - front] !== undefined) return this.#meet(ctx, state);
    const held = front === Front.In ? this.#heldUntil(ctx, state, 1) : null;
    if (held !== null) return this.#defer(ctx, state, held);
    return await this.#probe(ctx, state, front, 1);
  }

  /**
   * Until when the seller's front holds round `round` for the buyer's walk, which usually
   * arrives first and makes the seller's flood needless; null if it does not wait. Only if
   * the account handed out its label (client 20) within a search time limit before the start
   * or since: a buyer without the label floods at once, and a seller waiting for it would
   * only leave that flood to go deep alone. The first round waits `walk_wait_ms` from the
   * start, and each later one a share of it again, so that the last starts at twice
   * `walk_wait_ms`, when the buyer starts its last walk: a walk still on its way meets a ball
   * a few hops wide and stops it, rather than one `maxDepth` wide (§5.2).
   */
  #heldUntil(ctx: Context, state: SearchState, round: number): number | null {
    if (this.labels.trees === 0 || this.maxWalkHops === 0) return null;
    if (this.labels.handedAt(ctx.username) < state.startedAt - this.#limits.searchTimeoutMs) {
      return null;
    }
    const at = state.startedAt + this.#roundAfter(round);
    return ctx.now < at ? at : null;
  }

  /**
   * How long after its start a seller with its label out starts round `round` at the
   * earliest: `walk_wait_ms`, then a share of it again a round, the last at twice it.
   * The buyer walks and waits by the same clock (#walkOn, #maybeRoundDone).
   */
  #roundAfter(round: number): number {
    const wait = this.#limits.walkWaitMs;
    return wait + (round - 1) * wait / Math.max(1, this.#limits.maxDepth - 1);
  }

  /** Holds the seller's front until `at`, when its timer starts its next round. */
  #defer(ctx: Context, state: SearchState, at: number): null {
    const root = state.fronts[Front.In]!;
    root.deferred = true;
    root.deadline = at;
    ctx.wakeAt(root.deadline);
    return null;
  }

  /** A walk from `from` towards the seller's label. */
  async onWalk(
    ctx: Context,
    from: AccountRef,
    message: {
      id: Uint8Array;
      amount: bigint;
      hops: number;
      budget: number;
      tree: number;
      target: Uint8Array;
    },
  ): Promise<Outcome | null> {
    const idHex = toHex(message.id);
    const dead = () => (
      this.walkEnds.refused++, this.#walkReport(ctx, from, message, WalkStatus.Dead, 1), null
    );
    let state = this.table.get(ctx.username, idHex);
    if (message.budget === 0 || (state !== undefined && state.amount !== message.amount)) {
      return dead();
    }
    if (state?.walk !== undefined) {
      if (!sameAccount(state.walk.parent, from)) return dead();
      if (state.walk.found) this.#walkReport(ctx, from, message, WalkStatus.Found, 0);
      return null;
    }
    if (state === undefined && this.table.noRoom(ctx.username, from) !== null) return dead();
    if ((await this.#edge(ctx, state, from, Front.Out, message.amount, true)) !== "open") {
      return dead();
    }
    state ??= this.#create(ctx, message.id, idHex, message.amount, from);
    const walk = state.walk = newWalk(
      from,
      decodeLabel(message.target),
      message.tree & ~DETOUR_SPENT,
      message.hops,
      message.budget,
      this.detour && (message.tree & DETOUR_SPENT) === 0,
    );
    const inward = state.fronts[Front.In];
    // The seller, or an account its flood reached, if the whole path stays within the hop
    // limit (the deadlines of §9 refuse a longer one). The seller's front learns of it too,
    // so that its flood stops deepening.
    if (inward !== undefined && message.hops + inward.depth <= this.maxWalkHops) {
      walk.found = true;
      walk.child = inward.parent;
      this.#walkReport(ctx, from, message, WalkStatus.Found, 0);
      return inward.found ? null : this.#found(ctx, state, Front.In, from);
    }
    return await this.#walkOn(ctx, state);
  }

  /** A report from the account this one's walk went to. */
  async onWalkReport(
    ctx: Context,
    from: AccountRef,
    message: { id: Uint8Array; amount: bigint; status: number; spent: number },
  ): Promise<Outcome | null> {
    const state = this.table.get(ctx.username, toHex(message.id));
    const walk = state?.walk;
    if (
      state === undefined || walk === undefined || walk.found || walk.dead ||
      state.amount !== message.amount || !sameAccount(walk.child, from)
    ) return null;
    if (message.status === WalkStatus.Found) {
      if (walk.detouring) this.walkEnds.detoursFound++;
      if (WALKS[walk.step].away) this.walkEnds.awayFound++;
      walk.found = true;
      walk.deadline = Infinity;
      if (walk.parent !== null) {
        this.#walkReport(ctx, walk.parent, state, WalkStatus.Found, 0);
        return null;
      }
      state.downstream = from;
      return this.#rootFound(state, Front.Out);
    }
    walk.child = null;
    walk.left -= Math.min(walk.left, Math.max(1, message.spent));
    return await this.#walkOn(ctx, state);
  }

  /**
   * Sends the walk on to the untried peer nearest the seller by the labels, if it is
   * nearer than this account and the edge can carry the amount; else the walk is dead
   * here: reported back, or at the buyer, the flood takes over.
   */
  async #walkOn(ctx: Context, state: SearchState): Promise<Outcome | null> {
    const walk = state.walk!;
    if (walk.hops < this.maxWalkHops && walk.left > 0) {
      const here = labelDistance(this.labels.label(ctx.username), walk.target, walk.tree);
      const away = WALKS[walk.step].away;
      let best: { peer: AccountRef; distance: number } | null = null;
      for (const peer of await listPeers(ctx.tx, ctx.username)) {
        if (sameAccount(peer, walk.parent) || walk.tried.has(refKey(peer))) continue;
        const neighbour = this.labels.neighbour(ctx.username, peer);
        const distance = labelDistance(neighbour, walk.target, walk.tree);
        if (
          distance === Infinity || (distance > here && !away) ||
          (best !== null && distance >= best.distance)
        ) continue;
        const edge = await this.#edge(ctx, state, peer, Front.Out, state.amount, false);
        if (edge !== "open") {
          this.walkEnds[edge]++;
          walk.tried.add(refKey(peer));
          continue;
        }
        best = { peer, distance };
      }
      walk.detouring = false;
      if (best === null && walk.detour) {
        best = await this.#detour(ctx, state, here);
        walk.detouring = best !== null;
        if (walk.detouring) this.walkEnds.detours++;
      }
      if (best !== null) {
        walk.tried.add(refKey(best.peer));
        walk.child = best.peer;
        walk.attempts = 0;
        this.#sendWalk(ctx, state);
        return null;
      }
    }
    if (walk.hops >= this.maxWalkHops) this.walkEnds.hops++;
    else if (walk.left <= 0) this.walkEnds.budget++;
    else this.walkEnds.noCloser++;
    walk.dead = true;
    walk.deadline = Infinity;
    if (walk.parent === null) {
      // The walk found no way: the buyer walks again (WALKS), then falls back to the flood.
      const all = (1 << this.labels.trees) - 1;
      const next = WALKS.findIndex(({ trees }, i) =>
        i > walk.step && (trees === ALL_TREES || ((trees & all) === trees && trees !== all))
      );
      // Past walk_wait_ms too, for as long again: the seller's flood has started then, and a
      // walk that meets it stops it (onWalk) where the buyer's flood would add a second ball.
      const walkedFor = ctx.now - state.startedAt;
      if (next !== -1 && walkedFor < this.#roundAfter(this.#limits.maxDepth)) {
        this.walkEnds.retries++;
        if (walkedFor >= this.#limits.walkWaitMs) this.walkEnds.lateRetries++;
        const { trees, away } = WALKS[next];
        const budget = Math.ceil(this.#limits.walkBudget * (away ? AWAY_BUDGET_SHARE : 1));
        state.walk = newWalk(null, walk.target, trees, 0, budget, this.detour);
        state.walk.step = next;
        // The peers the last walk left by stay tried: by the same trees they lead the same way.
        if (away) state.walk.tried = walk.tried;
        return await this.#walkOn(ctx, state);
      }
      if (next === -1) this.walkEnds.exhausted++;
      else this.walkEnds.timeCut++;
      state.floodStartedAt = ctx.now;
      state.fronts[Front.Out] = newFront(null, 0);
      if (state.fronts[Front.In] !== undefined) return this.#meet(ctx, state);
      return await this.#probe(ctx, state, Front.Out, 1);
    }
    this.#walkReport(ctx, walk.parent, state, WalkStatus.Dead, walk.received - walk.left);
    state.walk = undefined;
    if (state.fronts[Front.Out] === undefined && state.fronts[Front.In] === undefined) {
      this.table.delete(ctx.username, state.idHex);
    }
    return null;
  }

  /**
   * The detour of §5.2: with no peer as near the seller open, the untried peer least
   * further from it whose edge can carry the amount, or null.
   */
  async #detour(
    ctx: Context,
    state: SearchState,
    here: number,
  ): Promise<{ peer: AccountRef; distance: number } | null> {
    const walk = state.walk!;
    const away: { peer: AccountRef; distance: number }[] = [];
    for (const peer of await listPeers(ctx.tx, ctx.username)) {
      if (sameAccount(peer, walk.parent) || walk.tried.has(refKey(peer))) continue;
      const distance = labelDistance(
        this.labels.neighbour(ctx.username, peer),
        walk.target,
        walk.tree,
      );
      if (distance !== Infinity && distance > here) away.push({ peer, distance });
    }
    away.sort((a, b) => a.distance - b.distance);
    for (const candidate of away) {
      const edge = await this.#edge(ctx, state, candidate.peer, Front.Out, state.amount, false);
      if (edge === "open") return candidate;
      this.walkEnds[edge]++;
      walk.tried.add(refKey(candidate.peer));
    }
    return null;
  }

  /** The walk passing through here met the seller's front from `via`: found, back and on. */
  #meetWalk(ctx: Context, state: SearchState, walk: WalkState, via: AccountRef): void {
    this.walkEnds.metFront++;
    walk.found = true;
    walk.deadline = Infinity;
    this.#walkReport(ctx, walk.parent!, state, WalkStatus.Found, 0);
    if (walk.child !== null) this.#endWalk(ctx, state, walk.child);
    walk.child = via;
  }

  /** Tells the walk's child `to` that its part of the walk is over (search end, front 2). */
  #endWalk(ctx: Context, state: SearchState, to: AccountRef): void {
    const args = searchEndArgs.encode({ id: state.id, amount: state.amount, front: Front.Walk });
    ctx.send(to, ServerCommand.SearchEnd, args);
  }

  #sendWalk(ctx: Context, state: SearchState): void {
    const walk = state.walk!;
    const spent = walk.detouring || !walk.detour ? DETOUR_SPENT : 0;
    ctx.send(
      walk.child!,
      ServerCommand.Walk,
      walkArgs.encode({
        id: state.id,
        amount: state.amount,
        hops: walk.hops + 1,
        budget: walk.left,
        tree: (walk.tree & ~DETOUR_SPENT) | spent,
        target: encodeLabel(walk.target),
      }),
    );
    walk.deadline = ctx.now + this.#limits.probeTimeoutMs * 2 ** walk.attempts;
    ctx.wakeAt(walk.deadline);
  }

  #walkReport(
    ctx: Context,
    to: AccountRef,
    state: { id: Uint8Array; amount: bigint },
    status: number,
    spent: number,
  ): void {
    ctx.send(
      to,
      ServerCommand.WalkReport,
      walkReportArgs.encode({ id: state.id, amount: state.amount, status, spent }),
    );
  }

  /** A probe from `from`. */
  async onSearch(ctx: Context, from: AccountRef, message: SearchMessage): Promise<Outcome | null> {
    const front = message.front as FrontId;
    const idHex = toHex(message.id);
    const reply = (status: number) =>
      this.#report(ctx, from, message, front, message.round, status);
    let state = this.table.get(ctx.username, idHex);
    if (state !== undefined && state.amount !== message.amount) return reply(Report.Refused), null;
    const mine = state?.fronts[front];
    if (mine === undefined) {
      const noRoom = state === undefined ? this.table.noRoom(ctx.username, from) : null;
      if (noRoom !== null) {
        ctx.log.warn("search-refused-limit", {
          account: ctx.username,
          payment: idHex.slice(0, 16),
          neighbour: formatAccountRef(from),
          limit: NO_ROOM_WORDS[noRoom],
        });
        return reply(noRoom === "full" ? Report.Refused : Report.Capped), null;
      }
      const edge = await this.#edge(ctx, state, from, front, message.amount, true);
      if (edge === "capped") {
        ctx.log.info("search-refused-limit", {
          account: ctx.username,
          payment: idHex.slice(0, 16),
          neighbour: formatAccountRef(from),
          limit: "credit in locks or payments in flight with this neighbour",
        });
      }
      if (edge !== "open") return reply(edge === "capped" ? Report.Capped : Report.Refused), null;
      state ??= this.#create(ctx, message.id, idHex, message.amount, from);
      const joined = newFront(from, message.round);
      state.fronts[front] = joined;
      // The seller's front reached the buyer while it walks: the path is that front's.
      if (front === Front.In && state.walk?.parent === null) {
        state.fronts[Front.Out] = newFront(null, 0);
      }
      // It reached an account the buyer's walk is passing through: the path is the walk's
      // way here and the front's way on, so the walk stops and the seller's flood too.
      const walk = state.walk;
      if (
        front === Front.In && walk !== undefined && walk.parent !== null && !walk.found &&
        !walk.dead && walk.hops + message.round <= this.maxWalkHops
      ) {
        this.#meetWalk(ctx, state, walk, from);
        joined.found = true;
        joined.deadline = Infinity;
        return reply(Report.Found), null;
      }
      // The other front was here first: the path runs through this account, and #meet
      // tells both parents, the one this probe came from included.
      if (state.fronts[1 - front] !== undefined) return this.#meet(ctx, state);
      const { open, capped } = await this.#candidates(ctx, state, front, from);
      joined.capped = capped;
      const status = open.length === 0
        ? (capped ? Report.Capped : Report.Done)
        : message.round >= this.#limits.maxDepth
        ? Report.Limited
        : Report.Alive;
      joined.reported = { round: message.round, status };
      reply(status);
      return null;
    }
    if (!sameAccount(mine.parent, from)) return reply(Report.Visited), null;
    if (mine.found) return reply(Report.Found), null;
    if (mine.reported !== null && message.round <= mine.reported.round) {
      return reply(mine.reported.status), null;
    }
    if (message.round <= mine.round && mine.deadline !== Infinity) return null;
    return await this.#probe(ctx, state!, front, message.round);
  }

  /** A child's report. */
  onReport(
    ctx: Context,
    from: AccountRef,
    message: SearchMessage & { status: number },
  ): Promise<Outcome | null> {
    const state = this.table.get(ctx.username, toHex(message.id));
    const front = message.front as FrontId;
    const mine = state?.fronts[front];
    const child = mine?.children.get(refKey(from));
    if (
      state === undefined || mine === undefined || child === undefined ||
      state.amount !== message.amount
    ) return Promise.resolve(null);
    if (message.status === Report.Found) {
      child.status = "found";
      return Promise.resolve(mine.found ? null : this.#found(ctx, state, front, from));
    }
    const waited = child.status === "pending" || child.status === "late";
    if (!waited || message.round !== mine.round) return Promise.resolve(null);
    child.status = STATUS_OF[message.status] ?? "done";
    return this.#maybeRoundDone(ctx, state, front);
  }

  /**
   * Where a lock from `from` continues at this account: the out-front's chosen child when
   * it comes from the out-front parent, the in-front parent when it comes from an in-front
   * child. `undefined` if the search does not lead through here.
   *
   * Any in-front child will do, not only those whose _found_ has arrived: the report can be
   * lost or overtaken by the lock itself (the buyer learns of the path through the other
   * front), and a child sends a lock here only if its path runs through us.
   */
  route(username: string, idHex: string, from: AccountRef): AccountRef | null | undefined {
    const state = this.table.get(username, idHex);
    if (state === undefined) return undefined;
    const walk = state.walk;
    const [out, inward] = state.fronts;
    if (walk?.found && walk.parent !== null && sameAccount(walk.parent, from)) {
      // The seller's flood may have reached this account after the walk passed: the path
      // on from the meeting account can then lead back here. Its front is then the way on
      // that takes no account twice.
      const shorter = inward !== undefined && walk.hops + inward.depth <= this.maxWalkHops;
      return (shorter ? inward.parent : walk.child) ?? undefined;
    }
    if (out?.found && sameAccount(out.parent, from) && state.downstream !== null) {
      return state.downstream;
    }
    if (inward?.children.has(refKey(from))) return inward.parent;
    return undefined;
  }

  /**
   * Ends a search at an account (its path is being used, or its root gave up): every
   * neighbour it probed, but those in `keep` (the path), is told to drop the search too,
   * so that the accounts off the path free their state now instead of at the time limit.
   */
  end(ctx: Context, idHex: string, keep: (AccountRef | null)[]): void {
    const state = this.table.get(ctx.username, idHex);
    if (state === undefined) return;
    this.table.delete(ctx.username, idHex);
    for (const front of [Front.Out, Front.In] as const) {
      this.#endChildren(ctx, state, front, keep);
    }
    const next = state.walk?.child;
    if (next && !state.walk!.dead && !keep.some((ref) => sameAccount(ref, next))) {
      this.#endWalk(ctx, state, next);
    }
  }

  /** A parent's word that its part of a front is over: drop ours and pass it on. */
  onEnd(ctx: Context, from: AccountRef, message: Omit<SearchMessage, "round">): void {
    const state = this.table.get(ctx.username, toHex(message.id));
    if (message.front === Front.Walk) {
      const walk = state?.walk;
      if (walk === undefined || !sameAccount(walk.parent, from)) return;
      if (state!.amount !== message.amount) return;
      if (walk.child !== null && !walk.dead && state!.fronts[Front.In] === undefined) {
        ctx.send(walk.child, ServerCommand.SearchEnd, searchEndArgs.encode(message));
      }
      state!.walk = undefined;
      if (state!.fronts[0] === undefined && state!.fronts[1] === undefined) {
        this.table.delete(ctx.username, state!.idHex);
      }
      return;
    }
    const front = message.front as FrontId;
    const mine = state?.fronts[front];
    if (state === undefined || mine === undefined || !sameAccount(mine.parent, from)) return;
    if (state.amount !== message.amount) return;
    this.#endChildren(ctx, state, front, []);
    state.fronts[front] = undefined;
    if (state.fronts[1 - front] === undefined) this.table.delete(ctx.username, state.idHex);
  }

  #endChildren(
    ctx: Context,
    state: SearchState,
    front: FrontId,
    keep: (AccountRef | null)[],
  ): void {
    const args = searchEndArgs.encode({ id: state.id, amount: state.amount, front });
    for (const child of state.fronts[front]?.children.values() ?? []) {
      if (!keep.some((ref) => sameAccount(ref, child.ref))) {
        ctx.send(child.ref, ServerCommand.SearchEnd, args);
      }
    }
  }

  /** Resends probes to silent children, gives up on them, and drops expired searches. */
  async wake(ctx: Context): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const state of this.table.of(ctx.username)) {
      if (ctx.now >= state.expiresAt) {
        // Every account of the search reaches its own time limit: nobody needs telling. A
        // buyer that ends early, at its hop limit, tells the accounts it reached.
        if (state.depthLimited) this.end(ctx, state.idHex, []);
        else this.table.delete(ctx.username, state.idHex);
        for (const front of [Front.Out, Front.In] as const) {
          if (state.fronts[front]?.parent === null && !state.ended) {
            const reason = state.depthLimited && front === Front.Out ? "depth" : "timeout";
            outcomes.push({ kind: "failed", idHex: state.idHex, front, reason });
          }
        }
        continue;
      }
      const walk = state.walk;
      if (walk !== undefined && !walk.found && !walk.dead && ctx.now >= walk.deadline) {
        if (walk.attempts < this.#limits.probeRetries) {
          walk.attempts++;
          this.#sendWalk(ctx, state);
        } else {
          // A silent account counts as a dead end.
          walk.child = null;
          walk.left -= Math.min(walk.left, 1);
          const outcome = await this.#walkOn(ctx, state);
          if (outcome) outcomes.push(outcome);
        }
      }
      for (const front of [Front.Out, Front.In] as const) {
        let mine = state.fronts[front];
        if (mine !== undefined && ctx.now >= mine.lateAt) {
          const outcome = await this.#lateChildren(ctx, state, front);
          if (outcome) outcomes.push(outcome);
          mine = state.fronts[front];
        }
        if (mine === undefined || ctx.now < mine.deadline) continue;
        if (mine.deferred) {
          mine.deferred = false;
          const outcome = await this.#probe(ctx, state, front, mine.round + 1);
          if (outcome) outcomes.push(outcome);
          continue;
        }
        const outcome = mine.attempts < this.#limits.probeRetries
          ? this.#resendProbes(ctx, state, front)
          : await this.#giveUpSilent(ctx, state, front);
        if (outcome) outcomes.push(outcome);
      }
      ctx.wakeAt(
        Math.min(
          state.expiresAt,
          state.walk?.deadline ?? Infinity,
          ...state.fronts.map((f) => Math.min(f?.deadline ?? Infinity, f?.lateAt ?? Infinity)),
        ),
      );
    }
    return outcomes;
  }

  #create(
    ctx: Context,
    id: Uint8Array,
    idHex: string,
    amount: bigint,
    opener: AccountRef | null,
  ): SearchState {
    const state: SearchState = {
      id,
      idHex,
      amount,
      expiresAt: ctx.now + this.#limits.searchTimeoutMs,
      fronts: [undefined, undefined],
      downstream: null,
      ended: false,
      opener,
      startedAt: ctx.now,
      floodStartedAt: ctx.now,
      depthLimited: false,
    };
    this.table.set(ctx.username, state);
    ctx.wakeAt(state.expiresAt);
    return state;
  }

  /**
   * Whether the edge with `peer` can carry the amount in this front's direction, by our
   * books: `capped` when only a per-neighbour limit closes it (docs/protocol.md §8). Our
   * own end of a payment (the buyer paying, the seller being paid) may use all the credit;
   * a payment passing through only what those limits leave, so that the search finds the
   * paths the locks will take.
   */
  async #edge(
    ctx: Context,
    state: SearchState | undefined,
    peer: AccountRef,
    front: FrontId,
    amount: bigint,
    fromPeer: boolean,
  ): Promise<"open" | "closed" | "capped"> {
    const books = await readBooks(ctx.tx, ctx.username, peer);
    // The out-front follows payments: it leaves us towards those we can pay, and reaches
    // us from those who can pay us. The in-front runs the other way.
    const weArePaying = (front === Front.Out) !== fromPeer;
    if ((weArePaying ? payable(books) : receivable(books)) < amount) return "closed";
    if (state?.fronts[weArePaying ? Front.Out : Front.In]?.parent === null) return "open";
    if (weArePaying && state?.walk?.parent === null) return "open";
    const limits = peerLimitsFor(this.#limits, ctx.username, formatAccountRef(peer));
    const side = weArePaying ? "out" : "in";
    const held = weArePaying ? this.heldUp(ctx.username, peer, ctx.now) : NONE_HELD;
    const limited = await transitLimit(
      ctx.tx,
      ctx.username,
      peer,
      books,
      side,
      amount,
      limits,
      held,
    );
    return limited === null ? "open" : "capped";
  }

  /** The neighbours this account can extend its front to, and whether a limit closed others. */
  async #candidates(
    ctx: Context,
    state: SearchState,
    front: FrontId,
    exclude: AccountRef | null,
  ): Promise<{ open: AccountRef[]; capped: boolean }> {
    const open: AccountRef[] = [];
    let capped = false;
    for (const peer of await listPeers(ctx.tx, ctx.username)) {
      if (sameAccount(peer, exclude)) continue;
      const edge = await this.#edge(ctx, state, peer, front, state.amount, false);
      if (edge === "open") open.push(peer);
      capped ||= edge === "capped";
    }
    return { open, capped };
  }

  /** Sends round `round` down this account's part of the front. */
  async #probe(
    ctx: Context,
    state: SearchState,
    front: FrontId,
    round: number,
  ): Promise<Outcome | null> {
    const mine = state.fronts[front]!;
    if (!mine.expanded) {
      mine.expanded = true;
      const { open, capped } = await this.#candidates(ctx, state, front, mine.parent);
      mine.capped = capped;
      for (const peer of open) mine.children.set(refKey(peer), { ref: peer, status: "alive" });
    }
    mine.round = round;
    mine.attempts = 0;
    for (const child of mine.children.values()) {
      if (child.status === "alive" || child.status === "late") child.status = "pending";
    }
    this.#sendProbes(ctx, state, front);
    const waiting = [...mine.children.values()].some((child) => child.status === "pending");
    mine.lateAt = waiting ? ctx.now + this.#limits.probeTimeoutMs * LATE_SHARE : Infinity;
    if (waiting) ctx.wakeAt(mine.lateAt);
    return this.#maybeRoundDone(ctx, state, front);
  }

  #sendProbes(ctx: Context, state: SearchState, front: FrontId): void {
    const mine = state.fronts[front]!;
    const args = searchArgs.encode({
      id: state.id,
      amount: state.amount,
      front,
      round: mine.round,
    });
    let pending = 0;
    for (const child of mine.children.values()) {
      if (child.status !== "pending" && child.status !== "late") continue;
      ctx.send(child.ref, ServerCommand.Search, args);
      pending++;
    }
    mine.deadline = pending === 0
      ? Infinity
      : ctx.now + this.#limits.probeTimeoutMs * 2 ** mine.attempts;
    if (pending > 0) ctx.wakeAt(mine.deadline);
  }

  #resendProbes(ctx: Context, state: SearchState, front: FrontId): null {
    state.fronts[front]!.attempts++;
    this.#sendProbes(ctx, state, front);
    return null;
  }

  #giveUpSilent(ctx: Context, state: SearchState, front: FrontId): Promise<Outcome | null> {
    const mine = state.fronts[front]!;
    for (const child of mine.children.values()) {
      if (child.status === "pending" || child.status === "late") child.status = "done";
    }
    mine.deadline = Infinity;
    return this.#maybeRoundDone(ctx, state, front);
  }

  /** Children that have not reported by now are late: the round goes on without them. */
  #lateChildren(ctx: Context, state: SearchState, front: FrontId): Promise<Outcome | null> {
    const mine = state.fronts[front]!;
    mine.lateAt = Infinity;
    for (const child of mine.children.values()) {
      if (child.status === "pending") child.status = "late";
    }
    return this.#maybeRoundDone(ctx, state, front);
  }

  /** Once every child has reported, tells the parent, or at the root starts the next round. */
  async #maybeRoundDone(ctx: Context, state: SearchState, front: FrontId): Promise<Outcome | null> {
    const mine = state.fronts[front]!;
    const statuses = [...mine.children.values()].map((child) => child.status);
    if (statuses.includes("pending") || mine.found) return null;
    mine.lateAt = Infinity;
    // Probes to late children are still resent, and given up on, at the probe time-out.
    const late = statuses.includes("late");
    if (!late) mine.deadline = Infinity;
    // A late child's report came after ours for this round: the next round takes it in.
    if (mine.parent !== null && mine.reported?.round === mine.round) return null;
    const status = statuses.includes("alive") || late
      ? Report.Alive
      : statuses.includes("limited")
      ? Report.Limited
      : mine.capped || statuses.includes("capped")
      ? Report.Capped
      : Report.Done;
    if (mine.parent !== null) {
      mine.reported = { round: mine.round, status };
      this.#report(ctx, mine.parent, state, front, mine.round, status);
      return null;
    }
    if (status === Report.Alive && mine.round < this.#limits.maxDepth) {
      // A label handed out after the seller's start holds its flood from the next round.
      const held = front === Front.In ? this.#heldUntil(ctx, state, mine.round + 1) : null;
      if (held !== null) return this.#defer(ctx, state, held);
      return await this.#probe(ctx, state, front, mine.round + 1);
    }
    // The buyer's front found nothing anywhere: no path can exist, so it ends at once. The
    // seller's front (the buyer may not have started yet) waits until the time limit.
    if (
      (status === Report.Done || status === Report.Capped) && front === Front.Out && !state.ended
    ) {
      state.ended = true;
      this.end(ctx, state.idHex, []);
      const reason = status === Report.Done ? "no-path" : "capped";
      return { kind: "failed", idHex: state.idHex, front, reason };
    }
    // The buyer's front reached its depth limit without meeting the seller's. The seller's
    // front started first and deepens at the same pace: once it has had as long again as
    // ours took (and its own deferral, §5.2), a meeting within the hop limit would have
    // been reported, so the buyer ends then instead of at the time limit.
    if (front === Front.Out && !state.ended && !state.depthLimited) {
      state.depthLimited = true;
      // The seller's flood started its last round by our start plus twice its hold-back
      // at the latest, and takes about as long as ours did.
      const took = Math.max(ctx.now - state.floodStartedAt, MIN_SETTLE_MS);
      const sellerFlooding = state.startedAt + this.#roundAfter(this.#limits.maxDepth);
      state.expiresAt = Math.min(state.expiresAt, Math.max(ctx.now, sellerFlooding) + took);
      ctx.wakeAt(state.expiresAt);
    }
    return null;
  }

  /** The path through child `via` is known here: record it and pass it towards the root. */
  #found(ctx: Context, state: SearchState, front: FrontId, via: AccountRef): Outcome | null {
    const mine = state.fronts[front]!;
    mine.found = true;
    mine.deadline = Infinity;
    if (front === Front.Out) state.downstream ??= via;
    if (mine.parent !== null) {
      this.#report(ctx, mine.parent, state, front, mine.round, Report.Found);
      return null;
    }
    return this.#rootFound(state, front);
  }

  /** Both fronts reached this account: the path runs through it. */
  #meet(ctx: Context, state: SearchState): Outcome | null {
    const [out, inward] = state.fronts as [FrontState, FrontState];
    state.downstream ??= inward.parent;
    let outcome: Outcome | null = null;
    for (const [front, mine] of [[Front.Out, out], [Front.In, inward]] as const) {
      if (mine.found) continue;
      mine.found = true;
      mine.deadline = Infinity;
      if (mine.parent !== null) {
        this.#report(ctx, mine.parent, state, front, mine.round, Report.Found);
      } else outcome = this.#rootFound(state, front) ?? outcome;
    }
    return outcome;
  }

  #rootFound(state: SearchState, front: FrontId): Outcome | null {
    if (state.ended) return null;
    state.ended = true;
    return {
      kind: "found",
      idHex: state.idHex,
      front,
      downstream: front === Front.Out ? state.downstream : null,
    };
  }

  #report(
    ctx: Context,
    to: AccountRef,
    state: { id: Uint8Array; amount: bigint },
    front: FrontId,
    round: number,
    status: number,
  ): void {
    ctx.send(
      to,
      ServerCommand.SearchReport,
      searchReportArgs.encode({ id: state.id, amount: state.amount, front, round, status }),
    );
  }
}

/**
 * The most hops a walk takes: §9 shortens the commit deadline by a margin at every hop, and a
 * hop needs two margins of room, so a longer path would be refused at the commit.
 *
 * @example
 * ```ts
 * import { walkHopLimit } from "./search.ts";
 * walkHopLimit({ commitDeadlineMs: 6 * 3_600_000, commitMarginMs: 300_000 }); // 18
 * ```
 */
export function walkHopLimit(limits: Pick<Limits, "commitDeadlineMs" | "commitMarginMs">): number {
  return Math.min(
    255,
    Math.floor(limits.commitDeadlineMs / (4 * Math.max(1, limits.commitMarginMs))),
  );
}

/** A walk's state at an account given `budget` accounts (itself included). */
function newWalk(
  parent: AccountRef | null,
  target: Label,
  tree: number,
  hops: number,
  budget: number,
  detour: boolean,
): WalkState {
  return {
    parent,
    target,
    tree,
    detour,
    detouring: false,
    step: 0,
    hops,
    received: budget,
    left: budget - 1,
    tried: new Set(),
    child: null,
    found: false,
    dead: false,
    deadline: Infinity,
    attempts: 0,
  };
}
