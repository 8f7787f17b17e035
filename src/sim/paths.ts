/**
 * A path-finding study: on a generated network, payments one at a time, each compared with
 * a breadth-first search over the same accounts and free capacities.
 */

import { toHex } from "../auth/keys.ts";
import * as api from "../client/commands.ts";
import { DEFAULT_LIMITS, type Limits } from "../core/config.ts";
import { readPayment, Reason } from "../payments/record.ts";
import {
  payable,
  readBooks,
  receivable,
  transitPayable,
  transitReceivable,
} from "../store/books.ts";
import { hasLabel, WIDE_CREDIT } from "../paths/labels.ts";
import { walkHopLimit } from "../paths/search.ts";
import { addPeer } from "../store/accounts.ts";
import { Tx } from "../store/tx.ts";
import { LiveChecks } from "./invariants.ts";
import { Random } from "./random.ts";
import { generateTopology, type Topology, writeSyncedTrustline } from "./topology.ts";
import { NO_FAULTS, SIM_DATADIR, SimWorld, type Violation } from "./world.ts";
import { formatAccountRef } from "../wire/names.ts";

/** Sizes of a study. */
export interface PathStudyOptions {
  seed: number;
  servers: number;
  accounts: number;
  /** Average peers per account; each pair trusts each other both ways, for 0 to `credit`. */
  degree: number;
  /** Largest trustline (default 100); payments are of 10, so a lower one leaves fewer paths. */
  credit?: number;
  /** Buyer and seller pairs tried, one after another. */
  pairs: number;
  limits?: Partial<Limits>;
  /** Whether walks may take their detour (§5.2; default false, as the servers). */
  detour?: boolean;
}

/** One buyer and seller pair and what happened to its payment. */
export interface PathTrial {
  /** Hops of the shortest path with enough capacity within the servers' hop limit; null if none. */
  shortest: number | null;
  /** Hops of the path the servers used; null if the payment did not complete. */
  found: number | null;
  /** Failure reason byte at the buyer (0 when completed). */
  reason: number;
  /** Search datagrams (probes, reports, walks and ends) sent for this payment id. */
  searchDatagrams: number;
  /** Simulated time from the buyer's pay to its payment's end (completed or failed). */
  endedAfterMs: number;
  /** Whether the buyer flooded: no walk, or the walk's fallback. */
  flooded: boolean;
  /** Of the search datagrams: walks and walk reports, and the seller's flood probes. */
  walkDatagrams: number;
  sellerFloodProbes: number;
}

/** The study's figures. */
export interface PathStudy {
  seed: number;
  trials: PathTrial[];
  violations: Violation[];
  /** Payments completed among the pairs where breadth-first search found a path. */
  successRatio: number;
  /** Pairs where the servers completed a payment that breadth-first search found no path for. */
  unexpected: number;
  /** Pairs without a path, and those of them that ended within 2 s with a no-path reason. */
  noPath: { pairs: number; endedPromptly: number };
  /** Routing-label datagrams until the labels settled after the servers started, per account. */
  labelsPerAccount: number;
  /**
   * Routing-label datagrams per new peer pair added beside the running servers, with a
   * trustline set each way: the two greet each other, and the trees take the new edge in.
   */
  labelsPerNewPeer: number;
  /**
   * Routing-label datagrams per trustline change that turns an edge narrow or wide (§5.2),
   * set by the creditor's client beside the running servers, until the labels settle.
   */
  labelsPerTrustlineChange: number;
  /** Why walks ended where they did, summed over the servers (SearchEngine.walkEnds). */
  walkEnds: Record<string, number>;
}

const AMOUNT = 10n;
/** What a pair without a path should be told: no path, none within the limits or the hop limit. */
const NO_PATH_REASONS = new Set<number>([
  Reason.NoPath,
  Reason.PeerLimits,
  Reason.NoPathWithinHops,
]);
const PROMPT_MS = 2_000;
const LABELS_SETTLE_MS = 20_000;
const SIM_ROOT = `${SIM_DATADIR}/ripple`;
const PAYMENT_WITHIN_MS = 120_000;

/**
 * The limits a path study runs with: `limits`, but for the deadlines after the commit,
 * which stay production's. The study has no faults, so no payment in it reaches them
 * (the simulator shortens them for fault runs), and the commit deadline sets the walk's
 * hop limit (18, docs/protocol.md §5.2): so the study measures the search as servers run it.
 */
export function studyLimits(limits: Partial<Limits>): Partial<Limits> {
  return {
    ...limits,
    commitDeadlineMs: DEFAULT_LIMITS.commitDeadlineMs,
    commitMarginMs: DEFAULT_LIMITS.commitMarginMs,
  };
}

/** Runs the study. Trustlines are written to the disks as if synced long ago. */
export async function runPathStudy(options: PathStudyOptions): Promise<PathStudy> {
  const random = new Random(options.seed);
  const world = new SimWorld({ random: random.fork(), faults: NO_FAULTS, limits: options.limits });
  const topology = await generateTopology(world, random.fork(), {
    servers: options.servers,
    accounts: options.accounts,
    degree: options.degree,
  });
  for (const [a, b] of topology.pairs) {
    for (const [creditor, debtor] of [[a, b], [b, a]]) {
      const amount = BigInt(random.between(0, options.credit ?? 100));
      await writeSyncedTrustline(
        world,
        topology.accounts[creditor],
        topology.accounts[debtor],
        amount,
      );
    }
  }
  for (const address of topology.addresses) {
    await world.start(address);
    world.servers.get(address)!.node!.search.detour = options.detour ?? false;
  }
  // The servers build the routing labels among themselves before the first payment.
  await world.runUntilQuiet(LABELS_SETTLE_MS);
  const labelsPerAccount = world.network.labelDatagrams / topology.accounts.length;
  const live = new LiveChecks(world, topology);
  // The servers find paths within the flood's hop limit, or the walk's, which is longer.
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const maxHops = Math.max(
    2 * limits.maxDepth,
    limits.labelTrees > 0 ? walkHopLimit(limits) : 0,
  );
  const trials: PathTrial[] = [];
  for (let i = 0; i < options.pairs; i++) {
    const buyer = random.int(topology.accounts.length);
    let seller = random.int(topology.accounts.length - 1);
    if (seller >= buyer) seller++;
    const shortest = await shortestPath(
      world,
      topology,
      buyer,
      seller,
      maxHops,
      options.limits ?? {},
    );
    trials.push(await pay(world, topology, random.bytes(32), buyer, seller));
    trials[trials.length - 1].shortest = shortest;
    await live.check();
  }
  const walkEnds: Record<string, number> = {};
  for (const address of topology.addresses) {
    for (const [k, v] of Object.entries(world.servers.get(address)!.node!.search.walkEnds)) {
      walkEnds[k] = (walkEnds[k] ?? 0) + v;
    }
  }
  const labelsPerNewPeer = await newPeers(world, topology, random, limits.labelTrees > 0);
  const labelsPerTrustlineChange = await trustlineChanges(world, topology, random);
  await world.close();
  const reachable = trials.filter((t) => t.shortest !== null);
  return {
    seed: options.seed,
    trials,
    violations: world.violations,
    successRatio: reachable.length === 0
      ? 1
      : reachable.filter((t) => t.found !== null).length / reachable.length,
    unexpected: trials.filter((t) => t.shortest === null && t.found !== null).length,
    labelsPerAccount,
    labelsPerNewPeer,
    labelsPerTrustlineChange,
    walkEnds,
    noPath: {
      pairs: trials.filter((t) => t.shortest === null).length,
      endedPromptly:
        trials.filter((t) =>
          t.shortest === null && NO_PATH_REASONS.has(t.reason) && t.endedAfterMs <= PROMPT_MS
        ).length,
    },
  };
}

async function pay(
  world: SimWorld,
  topology: Topology,
  id: Uint8Array,
  buyer: number,
  seller: number,
): Promise<PathTrial> {
  const [b, s] = [topology.accounts[buyer], topology.accounts[seller]];
  const buyerClient = world.client(b.ref, b.key);
  let paidAt = 0;
  const paying = (async () => {
    const sellerClient = world.client(s.ref, s.key);
    // The label first, as an invoice is made: the seller's front then waits for the walk.
    const label = await api.getLabel(sellerClient);
    await api.newPaymentIn(sellerClient, b.ref, id, AMOUNT);
    paidAt = world.clock.now();
    await api.newPaymentOut(buyerClient, s.ref, id, AMOUNT, label);
  })();
  await world.runUntil(paying, PAYMENT_WITHIN_MS);
  // Let the payment run to its end (and the other searches to their time limits).
  await world.runUntilQuiet(PAYMENT_WITHIN_MS);
  const idHex = toHex(id);
  const record = await readPayment(
    new Tx(world.servers.get(b.ref.address)!.node!.store),
    b.ref.username,
    idHex,
  );
  let found: number | null = null;
  if (record?.state === "completed") {
    let accounts = 0;
    for (const account of topology.accounts) {
      const store = world.servers.get(account.ref.address)!.node!.store;
      const on = await readPayment(new Tx(store), account.ref.username, idHex);
      if (on?.state === "completed") accounts++;
    }
    found = accounts - 1;
  }
  return {
    shortest: null,
    found,
    reason: record?.reason ?? -1,
    searchDatagrams: world.traffic.get(idHex)?.search ?? 0,
    endedAfterMs: (record?.updatedAt ?? Infinity) - paidAt,
    flooded: (world.traffic.get(idHex)?.flood ?? 0) > 0,
    walkDatagrams: world.traffic.get(idHex)?.walk ?? 0,
    sellerFloodProbes: world.traffic.get(idHex)?.sellerFlood ?? 0,
  };
}

/**
 * Breadth-first search over edges whose both sides have room for {@linkcode AMOUNT}, as a
 * payment through them would: the buyer and seller with all their credit, the accounts
 * between with what the per-neighbour share of each trustline leaves.
 */
async function shortestPath(
  world: SimWorld,
  topology: Topology,
  from: number,
  to: number,
  maxHops: number,
  limits: Partial<Limits>,
): Promise<number | null> {
  const accounts = topology.accounts;
  const books = (x: number, y: number) =>
    readBooks(
      new Tx(world.servers.get(accounts[x].ref.address)!.node!.store),
      accounts[x].ref.username,
      accounts[y].ref,
    );
  const share = limits.peerLockSharePercent ?? DEFAULT_LIMITS.peerLockSharePercent;
  const depth = new Map<number, number>([[from, 0]]);
  let frontier = [from];
  for (let hops = 1; hops <= maxHops && frontier.length > 0; hops++) {
    const next: number[] = [];
    for (const x of frontier) {
      for (const y of accounts[x].peers) {
        if (depth.has(y)) continue;
        // A payment passing through an account may use only its share of each trustline.
        const out = x === from
          ? payable(await books(x, y))
          : transitPayable(await books(x, y), share);
        const into = y === to
          ? receivable(await books(y, x))
          : transitReceivable(await books(y, x), share);
        if (out < AMOUNT || into < AMOUNT) continue;
        if (y === to) return hops;
        depth.set(y, hops);
        next.push(y);
      }
    }
    frontier = next;
  }
  return null;
}

const NEW_PEERS = 3;
const TRUSTLINE_CHANGES = 5;

/**
 * Sets trustlines of random peer pairs across the narrow threshold (§5.2: 5 where it was at
 * least 20, else 100), one at a time, by the creditor's client beside the running servers;
 * the label datagrams until they settle, per change.
 */
async function trustlineChanges(
  world: SimWorld,
  topology: Topology,
  random: Random,
): Promise<number> {
  const before = world.network.labelDatagrams;
  for (let i = 0; i < TRUSTLINE_CHANGES; i++) {
    const [a, b] = topology.pairs[random.int(topology.pairs.length)];
    const [creditor, debtor] = random.chance(0.5)
      ? [topology.accounts[a], topology.accounts[b]]
      : [topology.accounts[b], topology.accounts[a]];
    const store = world.servers.get(creditor.ref.address)!.node!.store;
    const books = await readBooks(new Tx(store), creditor.ref.username, debtor.ref);
    const amount = books.trustlineOut >= WIDE_CREDIT ? 5n : 100n;
    const setting = api.setTrustline(world.client(creditor.ref, creditor.key), debtor.ref, amount);
    await world.runUntil(setting, PAYMENT_WITHIN_MS);
    await world.runUntilQuiet(LABELS_SETTLE_MS);
  }
  return (world.network.labelDatagrams - before) / TRUSTLINE_CHANGES;
}

/**
 * Adds peer pairs between accounts of two servers, each as an operator may: `ripple peer
 * add` on both sides beside the running servers, then a trustline each way set by the
 * accounts' clients, whose datagrams are the new peers' first; counts the label datagrams
 * until they settle, and checks that both accounts hold each other's label.
 */
async function newPeers(
  world: SimWorld,
  topology: Topology,
  random: Random,
  labelled: boolean,
): Promise<number> {
  const before = world.network.labelDatagrams;
  let added = 0;
  for (let tries = 0; added < NEW_PEERS && tries < 100; tries++) {
    const [a, b] = [random.int(topology.accounts.length), random.int(topology.accounts.length)];
    const [x, y] = [topology.accounts[a], topology.accounts[b]];
    if (x.ref.address === y.ref.address || x.peers.includes(b)) continue;
    const key = random.bytes(32);
    const disk = (account: typeof x) => world.servers.get(account.ref.address)!.disk.view();
    await addPeer(disk(x), SIM_ROOT, x.ref.username, y.ref, key);
    await addPeer(disk(y), SIM_ROOT, y.ref.username, x.ref, key);
    const trusting = Promise.all([
      api.setTrustline(world.client(x.ref, x.key), y.ref, 100n),
      api.setTrustline(world.client(y.ref, y.key), x.ref, 100n),
    ]);
    await world.runUntil(trusting, PAYMENT_WITHIN_MS);
    x.peers.push(b);
    y.peers.push(a);
    await world.runUntilQuiet(LABELS_SETTLE_MS);
    for (const [self, peer] of labelled ? [[x, y], [y, x]] : []) {
      const labels = world.servers.get(self.ref.address)!.node!.search.labels;
      if (!hasLabel(labels.neighbour(self.ref.username, peer.ref))) {
        world.violate(
          "label-missing",
          `${formatAccountRef(self.ref)} holds no label of its new peer ${
            formatAccountRef(peer.ref)
          }`,
        );
      }
    }
    added++;
  }
  return added === 0 ? 0 : (world.network.labelDatagrams - before) / added;
}
