/**
 * Routing labels: each account's coordinates in a few spanning trees, built and repaired by
 * neighbours alone (server 150), so that a walk can head for the seller (docs/protocol.md §5.2).
 */

import { clientCommand, type Context, type Feature, serverCommand } from "../core/context.ts";
import { readBooks } from "../store/books.ts";
import { listPeers } from "../store/paths.ts";
import { labelArgs, labelBody, noArgs } from "../wire/arguments.ts";
import { ClientCommand, ServerCommand } from "../wire/commands.ts";
import { LABEL_SIZE } from "../wire/layout.ts";
import { type AccountRef, formatAccountRef } from "../wire/names.ts";
import { Status } from "../wire/response.ts";

/** An account's place in one tree: the tree's root (a hash, never 0) and the path of indexes from it. */
export interface TreeCoordinate {
  root: number;
  coordinate: number[];
}

/** One coordinate per tree; null where the account has none (a label from an older server). */
export type Label = (TreeCoordinate | null)[];

/** Trees a label has room for. */
export const MAX_TREES = 3;
/** Deepest coordinate a label carries; an account further from every root has none in that tree. */
export const MAX_LABEL_DEPTH = 32;
const TREE_SIZE = LABEL_SIZE / MAX_TREES;
/** A walk's metric: the least distance over the trees of a bit mask (bit t: tree t); all of them. */
export const ALL_TREES = 0xff;
/**
 * The index bit a parent sets for a _narrow_ edge: one whose trustline either way is below
 * {@linkcode WIDE_CREDIT}. The rest of the index is the hash.
 */
export const NARROW_BIT = 0x8000;
/**
 * The least trustline, each way, of a _wide_ edge: a payment of 10 passing through may use
 * half of it (§8), so a narrower edge carries none. A tree takes a narrow edge only where
 * it saves more than {@linkcode NARROW_COST} − 1 hops, so that the tree routes the walk
 * follows have room.
 */
export const WIDE_CREDIT = 20n;
/** What a narrow edge counts for in the election of a parent, in hops; a wide one counts 1. */
export const NARROW_COST = 4;

/**
 * A coordinate's cost from its root: its hops, a narrow one counting {@linkcode NARROW_COST}.
 *
 * @example
 * ```ts
 * import { coordinateCost, NARROW_BIT } from "./labels.ts";
 * coordinateCost([3, NARROW_BIT | 3]); // 5
 * ```
 */
export function coordinateCost(coordinate: readonly number[]): number {
  let cost = 0;
  for (const index of coordinate) cost += (index & NARROW_BIT) === 0 ? 1 : NARROW_COST;
  return cost;
}

/**
 * The label's bytes: per tree a root u32 (0: none), a length u8 and that many u16s.
 *
 * @example
 * ```ts
 * import { decodeLabel, encodeLabel } from "./labels.ts";
 * decodeLabel(encodeLabel([{ root: 7, coordinate: [3, 9] }]))[0]; // { root: 7, coordinate: [3, 9] }
 * ```
 */
export function encodeLabel(label: Label): Uint8Array {
  const bytes = new Uint8Array(LABEL_SIZE);
  const view = new DataView(bytes.buffer);
  label.slice(0, MAX_TREES).forEach((tree, t) => {
    if (tree === null || tree.coordinate.length > MAX_LABEL_DEPTH) return;
    const at = t * TREE_SIZE;
    view.setUint32(at, tree.root);
    view.setUint8(at + 4, tree.coordinate.length);
    tree.coordinate.forEach((index, i) => view.setUint16(at + 5 + 2 * i, index));
  });
  return bytes;
}

/** Reads {@linkcode encodeLabel}'s bytes; a tree with root 0 or a length past the limit is none. */
export function decodeLabel(bytes: Uint8Array): Label {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const label: Label = [];
  for (let t = 0; t < MAX_TREES; t++) {
    const at = t * TREE_SIZE;
    const root = view.getUint32(at);
    const length = view.getUint8(at + 4);
    if (root === 0 || length > MAX_LABEL_DEPTH) {
      label.push(null);
      continue;
    }
    const coordinate = Array.from({ length }, (_, i) => view.getUint16(at + 5 + 2 * i));
    label.push({ root, coordinate });
  }
  return label;
}

/** Whether a label names any tree. */
export function hasLabel(label: Label): boolean {
  return label.some((tree) => tree !== null);
}

/**
 * The distance between two accounts by their labels: in each tree both are in, the hops up
 * to their deepest common ancestor and down again; the least over the trees (Infinity if none).
 *
 * @example
 * ```ts
 * import { labelDistance } from "./labels.ts";
 * labelDistance([{ root: 1, coordinate: [4, 2] }], [{ root: 1, coordinate: [4, 5, 1] }]); // 3
 * ```
 */
export function labelDistance(a: Label, b: Label, trees = ALL_TREES): number {
  let best = Infinity;
  for (let t = 0; t < Math.min(a.length, b.length); t++) {
    if ((trees & (1 << t)) === 0) continue;
    const [x, y] = [a[t], b[t]];
    if (x === null || y === null || x.root !== y.root) continue;
    let common = 0;
    const n = Math.min(x.coordinate.length, y.coordinate.length);
    while (common < n && x.coordinate[common] === y.coordinate[common]) common++;
    best = Math.min(best, x.coordinate.length + y.coordinate.length - 2 * common);
  }
  return best;
}

/** FNV-1a over text, 32 bits. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** An account's bid to be the root of tree `t`: the least bid anywhere wins the tree. */
function rootBid(t: number, self: string): number {
  return hash32(`root ${t} ${self}`) || 1;
}

/**
 * The index an account gives a neighbour in tree `t`, what follows its coordinate in the
 * neighbour's: a 15-bit hash, and {@linkcode NARROW_BIT} when the edge is narrow.
 */
function childIndex(t: number, self: string, neighbour: string, narrow: boolean): number {
  return (hash32(`child ${t} ${self} ${neighbour}`) & 0x7fff) | (narrow ? NARROW_BIT : 0);
}

/** A neighbour's last label, and the indexes it gives this account. */
interface NeighbourLabel {
  label: Label;
  indexes: number[];
}

/** What one account knows: its label, its parent per tree, its neighbours' labels. */
interface AccountLabels {
  own: Label;
  parents: (string | null)[];
  neighbours: Map<string, NeighbourLabel>;
  /** Peers this account's current label went to. */
  told: Set<string>;
  /** Peers that asked for a label or must hear our next one. */
  owed: Set<string>;
  /** When the owed labels go out (changes are gathered for a moment, so a burst costs one). */
  sendAt: number;
  /**
   * Until the first neighbour's label arrives after a start: the account asks its peers for
   * theirs without sending its own, which it does not know yet (its old one was lost).
   */
  starting: boolean;
  /** Whether the timer has greeted the peers since the start. */
  greeted: boolean;
  /** Whether the edge was narrow, per peer, in the last label sent to it. */
  sentNarrow: Map<string, boolean>;
  /** Peers whose edge is to be checked for a change of narrowness at the next timer run. */
  recheck: Set<string>;
  /** When each peer's edge was last checked. */
  checkedAt: Map<string, number>;
}

/** What server 150's `ask` byte says. */
export const Ask = {
  /** Nothing: the label is news. */
  None: 0,
  /** The sender holds no label of the receiver: answer with yours. */
  Answer: 1,
  /** The sender has just started: answer, and keep the label you hold of it. */
  Started: 2,
} as const;

/** How long an account gathers changes to its label before telling its peers. */
const LABEL_SETTLE_MS = 50;
/**
 * An edge's narrowness is checked again (from the books: a trustline may have changed) at
 * a datagram from the peer, at most this often.
 */
export const NARROW_RECHECK_MS = 1_000;

/**
 * The labels of every account of a server, in memory: after a restart an account starts as
 * the root of its own trees and asks its peers again.
 */
export class LabelTable {
  readonly trees: number;
  readonly address: string;
  #accounts = new Map<string, AccountLabels>();
  /** When each account last handed out its label (client 20), so a buyer may walk to it. */
  #handedAt = new Map<string, number>();

  /** The least trustline each way of an edge the trees prefer ({@linkcode WIDE_CREDIT}). */
  readonly wideCredit: bigint;

  constructor(trees: number, address: string, wideCredit = WIDE_CREDIT) {
    this.trees = Math.min(trees, MAX_TREES);
    this.address = address;
    this.wideCredit = wideCredit;
  }

  /** The account's label (its own trees only, until its neighbours are heard). */
  label(username: string): Label {
    return this.#get(username).own;
  }

  /** The account's label, handed to its client for a buyer (client 20); the time is kept. */
  handOut(username: string, now: number): Label {
    this.#handedAt.set(username, now);
    return this.label(username);
  }

  /** When the account last handed out its label since the start; -Infinity if never. */
  handedAt(username: string): number {
    return this.#handedAt.get(username) ?? -Infinity;
  }

  /** The last label a neighbour sent this account; empty if none. */
  neighbour(username: string, peer: AccountRef): Label {
    return this.#accounts.get(username)?.neighbours.get(formatAccountRef(peer))?.label ?? [];
  }

  /** A neighbour's label arrived: keep it, and answer or pass on what changes here. */
  heard(ctx: Context, from: AccountRef, label: Label, indexes: number[], ask: number): void {
    const account = this.#get(ctx.username);
    const key = formatAccountRef(from);
    if (ask !== Ask.Started) account.neighbours.set(key, { label, indexes });
    if (ask !== Ask.None || !account.told.has(key)) account.owed.add(key);
    if (account.starting) {
      // The first word since the start (an answer, or a peer starting too, which holds
      // nothing of ours either): from now on every peer gets our label.
      account.starting = false;
      account.told.clear();
    }
    this.#recompute(ctx.username, account);
    this.#schedule(ctx, account);
  }

  /**
   * A datagram from `peer` arrived. A peer this account has neither heard a label from nor
   * sent one to since its start greeting was added while the server runs (`ripple peer
   * add`): it is greeted now, asked for its own label, instead of at the next start.
   */
  met(ctx: Context, peer: AccountRef): void {
    if (this.trees === 0) return;
    const account = this.#get(ctx.username);
    const key = formatAccountRef(peer);
    // Before the greeting, the timer lists every peer anyway.
    if (!account.greeted || account.owed.has(key)) return;
    if (account.neighbours.has(key) || account.told.has(key)) {
      // A known peer: its datagram may have changed a trustline, and so whether the edge
      // is narrow (the index we give it). The timer checks, at most once a second.
      if (!account.told.has(key) || account.recheck.has(key)) return;
      if (ctx.now - (account.checkedAt.get(key) ?? -Infinity) < NARROW_RECHECK_MS) return;
      account.recheck.add(key);
      account.checkedAt.set(key, ctx.now);
      ctx.wakeAt(ctx.now + LABEL_SETTLE_MS);
      return;
    }
    account.owed.add(key);
    this.#schedule(ctx, account);
  }

  /** A timer run: greets the peers after a start, and sends the labels owed. */
  async wake(ctx: Context): Promise<void> {
    if (this.trees === 0) return;
    const known = this.#accounts.get(ctx.username);
    // The peers are listed for the greeting after a start and for labels owed; a peer added
    // while the server runs is greeted once it is first heard from (`met`).
    if (
      known !== undefined && known.greeted && known.owed.size === 0 && known.recheck.size === 0
    ) return;
    const peers = await listPeers(ctx.tx, ctx.username);
    // An account without peers greets nobody and keeps no entry: a start wakes every account,
    // and an entry for each would hold memory for the server's whole life.
    if (known === undefined && peers.length === 0) return;
    const account = known ?? this.#get(ctx.username);
    account.greeted = true;
    const keys = new Set(peers.map(formatAccountRef));
    let changed = false;
    for (const key of account.neighbours.keys()) {
      if (!keys.has(key)) changed = account.neighbours.delete(key) || changed;
    }
    for (const key of keys) if (!account.told.has(key)) account.owed.add(key);
    if (changed) this.#recompute(ctx.username, account);
    const narrow = async (peer: AccountRef) => {
      const books = await readBooks(ctx.tx, ctx.username, peer);
      const least = books.trustlineIn < books.trustlineOut ? books.trustlineIn : books.trustlineOut;
      return least < this.wideCredit;
    };
    for (const peer of peers) {
      const key = formatAccountRef(peer);
      if (!account.recheck.has(key) || account.owed.has(key)) continue;
      // The index we give this peer changed: it hears our label again, and its parent may move.
      if ((await narrow(peer)) !== account.sentNarrow.get(key)) account.owed.add(key);
    }
    account.recheck.clear();
    if (account.owed.size === 0) return;
    if (ctx.now < account.sendAt) return ctx.wakeAt(account.sendAt);
    const self = `${ctx.username}@${this.address}`;
    const label = encodeLabel(account.starting ? [] : account.own);
    for (const peer of peers) {
      const key = formatAccountRef(peer);
      if (!account.owed.has(key)) continue;
      const isNarrow = await narrow(peer);
      account.sentNarrow.set(key, isNarrow);
      account.checkedAt.set(key, ctx.now);
      const index = (t: number) => t < this.trees ? childIndex(t, self, key, isNarrow) : 0;
      ctx.send(
        peer,
        ServerCommand.Label,
        labelArgs.encode({
          label,
          index0: index(0),
          index1: index(1),
          index2: index(2),
          ask: account.starting ? Ask.Started : account.neighbours.has(key) ? Ask.None : Ask.Answer,
        }),
      );
      // While starting, `told` holds the peers asked, so each is asked once.
      account.told.add(key);
    }
    account.owed.clear();
  }

  #get(username: string): AccountLabels {
    let account = this.#accounts.get(username);
    if (account === undefined) {
      const self = `${username}@${this.address}`;
      account = {
        own: Array.from({ length: this.trees }, (_, t) => ({
          root: rootBid(t, self),
          coordinate: [],
        })),
        parents: Array.from({ length: this.trees }, () => null),
        neighbours: new Map(),
        told: new Set(),
        owed: new Set(),
        sendAt: 0,
        starting: true,
        greeted: false,
        sentNarrow: new Map(),
        recheck: new Set(),
        checkedAt: new Map(),
      };
      this.#accounts.set(username, account);
    }
    return account;
  }

  /**
   * Each tree's parent is the neighbour with the least root, then the least cost through
   * it (hops, a narrow edge counting {@linkcode NARROW_COST}: a tree of the cheapest ways
   * from the root), then the least name, leaving out neighbours below this account in the
   * tree (their coordinate starts with ours), so that no loop forms. When it changes, every
   * peer is owed the new label.
   */
  #recompute(username: string, account: AccountLabels): void {
    const self = `${username}@${this.address}`;
    let changed = false;
    for (let t = 0; t < this.trees; t++) {
      const mine = account.own[t]!;
      let best: TreeCoordinate = { root: rootBid(t, self), coordinate: [] };
      let bestCost = 0;
      let parent: string | null = null;
      for (const [key, { label, indexes }] of account.neighbours) {
        const theirs = label[t];
        if (theirs === null || theirs === undefined) continue;
        if (theirs.coordinate.length >= MAX_LABEL_DEPTH) continue;
        const below = theirs.root === mine.root &&
          mine.coordinate.every((index, i) => theirs.coordinate[i] === index);
        if (below) continue;
        const index = indexes[t] ?? 0;
        const cost = coordinateCost(theirs.coordinate) + coordinateCost([index]);
        const better = theirs.root < best.root ||
          (theirs.root === best.root &&
            (cost < bestCost || (cost === bestCost && parent !== null && key < parent)));
        if (!better) continue;
        best = { root: theirs.root, coordinate: [...theirs.coordinate, index] };
        bestCost = cost;
        parent = key;
      }
      if (
        best.root !== mine.root || best.coordinate.length !== mine.coordinate.length ||
        best.coordinate.some((index, i) => index !== mine.coordinate[i])
      ) {
        account.own[t] = best;
        changed = true;
      }
      account.parents[t] = parent;
    }
    if (!changed) return;
    account.told.clear();
    for (const key of account.neighbours.keys()) account.owed.add(key);
  }

  #schedule(ctx: Context, account: AccountLabels): void {
    if (account.owed.size === 0) return;
    if (account.sendAt <= ctx.now) account.sendAt = ctx.now + LABEL_SETTLE_MS;
    ctx.wakeAt(account.sendAt);
  }
}

/**
 * The labels feature: server 150 between peers, client 20 for the seller's invoice, and
 * the greetings of peers after a start and of a peer added while the server runs.
 *
 * @example
 * ```ts
 * import { createLabels } from "./labels.ts";
 * const labels = createLabels({ trees: 3, address: "127.0.0.2" });
 * labels.table.label("alice").length; // 3
 * ```
 */
export function createLabels(
  options: { trees: number; address: string; wideCredit?: bigint },
): Feature & {
  table: LabelTable;
} {
  const table = new LabelTable(options.trees, options.address, options.wideCredit);
  return {
    table,
    clientCommands: {
      [ClientCommand.GetLabel]: clientCommand({
        args: noArgs,
        peer: "none",
        handle: (ctx) =>
          Promise.resolve({
            status: Status.Ok,
            body: labelBody.encode({
              label: encodeLabel(table.trees === 0 ? [] : table.handOut(ctx.username, ctx.now)),
            }),
          }),
      }),
    },
    serverCommands: {
      [ServerCommand.Label]: serverCommand({
        args: labelArgs,
        handle(ctx, message) {
          if (table.trees === 0) return Promise.resolve();
          const indexes = [message.index0, message.index1, message.index2];
          table.heard(ctx, ctx.peer, decodeLabel(message.label), indexes, message.ask);
          return Promise.resolve();
        },
      }),
    },
    heard: (ctx) => table.met(ctx, ctx.peer),
    wake: (ctx) => table.wake(ctx),
  };
}
