/** The simulator's invariants: checked while the world runs, and once it is quiet. */

import type { Node } from "../server/node.ts";
import { type Books, payable, readBooks, readInFlight, receivable } from "../store/books.ts";
import { accountPath, type PeerFile, peerPath } from "../store/paths.ts";
import { Tx } from "../store/tx.ts";
import { inFlightWith, listPayments, readPayment } from "../payments/record.ts";
import { Reason } from "../wire/reasons.ts";
import { formatAccountRef } from "../wire/names.ts";
import type { SimAccount, Topology } from "./topology.ts";
import { SIM_DATADIR, type SimWorld } from "./world.ts";

/** A payment the workload started, and what became of it. */
export interface SimPayment {
  /** The workload step that made it. */
  step: number;
  id: Uint8Array;
  idHex: string;
  buyer: number;
  seller: number;
  amount: bigint;
  /** Set once the run is quiet: whether buyer and seller both completed it. */
  completed?: boolean;
  /** Set once the run is quiet: the buyer's failure reason (0 when it did not fail). */
  reason?: number;
}

/** What the workload knows should be on the servers. */
export interface Model {
  /** Per `creditor debtor` (account indexes): the amounts the trustline may hold. */
  trustlines: Map<string, bigint[]>;
  payments: SimPayment[];
}

/** How long past its time limit a search may linger: one scheduler turn. */
const SEARCH_SLACK_MS = 1_000;
const COUNTER_FILES: PeerFile[] = [
  "counter_in.txt",
  "counter_out.txt",
  "counter.txt",
  "sync_out.txt",
  "sync_in.txt",
];

/**
 * Checks made at any moment: no credit limit exceeded counting locks, no stored counter
 * going backwards within a server's life and its store's generation (a full disk that
 * refuses change sets takes their counters back, docs/protocol.md §3), no search state past
 * its time limit.
 */
export class LiveChecks {
  #world: SimWorld;
  #topology: Topology;
  /**
   * Per account (its index in the topology), the counters last read, in the order of its
   * files (its own, then each peer's, peers only ever appended), and the server life and
   * store generation they were read in. One array per account rather than a map entry
   * keyed by each file's full name: at 64,000 accounts of 4 peers that is 1.3 million entries.
   */
  #counters: Float64Array[] = [];
  #lives: string[] = [];

  constructor(world: SimWorld, topology: Topology) {
    this.#world = world;
    this.#topology = topology;
  }

  async check(): Promise<void> {
    const world = this.#world;
    const now = world.clock.now();
    for (const [a, b] of this.#topology.pairs) {
      for (const [x, y] of [[a, b], [b, a]]) {
        const account = this.#topology.accounts[x];
        const node = this.#node(account);
        if (node === null) continue;
        const books = await readBooks(new Tx(node.store), account.ref.username, this.#ref(y));
        if (payable(books) < 0n || receivable(books) < 0n) {
          world.violate("credit-limit", `${account.name} with ${this.#name(y)}: ${show(books)}`);
        }
      }
    }
    for (const [index, account] of this.#topology.accounts.entries()) {
      const node = this.#node(account);
      if (node === null) continue;
      const server = world.servers.get(account.ref.address)!;
      const tx = new Tx(node.store);
      const files = [accountPath(account.ref.username, "counter.txt")];
      for (const peer of account.peers) {
        for (const file of COUNTER_FILES) {
          files.push(peerPath(account.ref.username, this.#ref(peer), file));
        }
      }
      // A new life or generation starts every counter again from 0.
      const life = `${server.restarts} ${node.store.generation}`;
      let seen = this.#counters[index];
      if (this.#lives[index] !== life) {
        seen = this.#counters[index] = new Float64Array(files.length);
        this.#lives[index] = life;
      } else if (seen.length < files.length) {
        const grown = new Float64Array(files.length);
        grown.set(seen);
        seen = this.#counters[index] = grown;
      }
      for (const [at, file] of files.entries()) {
        const value = await tx.getNumber(file);
        const last = seen[at];
        if (value < last) {
          const key = `${account.ref.address} ${life} ${file}`;
          world.violate("counter-backwards", `${key}: ${value} after ${last}`);
        }
        seen[at] = value;
      }
    }
    for (const account of this.#topology.accounts) {
      const node = this.#node(account);
      if (node !== null) await this.#checkInFlight(account, node);
    }
    for (const server of world.servers.values()) {
      for (const [username, state] of server.node?.search.table.all() ?? []) {
        if (now > state.expiresAt + SEARCH_SLACK_MS) {
          world.violate(
            "search-outlived",
            `${username}@${server.address} still holds search ${state.idHex.slice(0, 12)} ` +
              `${now - state.expiresAt} ms past its limit`,
          );
        }
      }
    }
  }

  /** Each neighbour's count of payments in flight is the number of records that name it. */
  async #checkInFlight(account: SimAccount, node: Node): Promise<void> {
    const tx = new Tx(node.store);
    const counted = new Map<string, number>();
    for (const idHex of await listPayments(tx, account.ref.username, false)) {
      const record = await readPayment(tx, account.ref.username, idHex);
      for (const peer of record === undefined ? [] : inFlightWith(record)) {
        const name = formatAccountRef(peer);
        counted.set(name, (counted.get(name) ?? 0) + 1);
      }
    }
    for (const peer of account.peers) {
      const ref = this.#ref(peer);
      const stored = await readInFlight(tx, account.ref.username, ref);
      const records = counted.get(formatAccountRef(ref)) ?? 0;
      if (stored !== records) {
        this.#world.violate(
          "in-flight-count",
          `${account.name} counts ${stored} payments in flight with ${this.#name(peer)}, ` +
            `its records ${records}`,
        );
      }
    }
  }

  #node(account: SimAccount): Node | null {
    return this.#world.servers.get(account.ref.address)!.node;
  }

  #ref(index: number) {
    return this.#topology.accounts[index].ref;
  }

  #name(index: number): string {
    return this.#topology.accounts[index].name;
  }
}

/** Outcome counts of the payments, as their buyers recorded them. */
export interface PaymentOutcomes {
  completed: number;
  failed: number;
  /** Failures by reason byte. */
  reasons: Record<number, number>;
  /** Simulated ms from the buyer's record to its end, of completed payments. */
  durations: number[];
  /** What honest accounts gained beyond their payments: paid for waiting (§9 of the protocol). */
  honestGain: bigint;
}

/**
 * Checks made once the network is quiet and every server is up: both sides of every
 * pair (but pairs of two hostile accounts) agree on trustlines, sync counters and balance; no lock, payment or search is
 * left; buyers and sellers agree on every outcome; every account's net position is what
 * its completed payments make it (so intermediaries end where they began, and the sum
 * is zero); no file lies outside the datadir.
 */
export async function checkQuiet(
  world: SimWorld,
  topology: Topology,
  model: Model,
  honest: (index: number) => boolean = () => true,
): Promise<PaymentOutcomes> {
  const outcomes: PaymentOutcomes = {
    completed: 0,
    failed: 0,
    reasons: {},
    durations: [],
    honestGain: 0n,
  };
  const node = (account: SimAccount) => world.servers.get(account.ref.address)!.node;
  for (const server of world.servers.values()) {
    if (server.node === null) world.violate("down-at-end", `${server.address} is not running`);
    for (const path of server.disk.paths()) {
      if (!path.startsWith(`${SIM_DATADIR}/`)) {
        world.violate("outside-datadir", `${server.address} has ${path}`);
      }
    }
    for (const [username, state] of server.node?.search.table.all() ?? []) {
      world.violate("search-left", `${username}@${server.address}: ${state.idHex.slice(0, 12)}`);
    }
  }
  if (world.violations.some((v) => v.invariant === "down-at-end")) return outcomes;

  const accounts = topology.accounts;
  const read = (i: number, j: number, file: PeerFile) =>
    new Tx(node(accounts[i])!.store).getBigint(
      peerPath(accounts[i].ref.username, accounts[j].ref, file),
    );
  const net = accounts.map(() => 0n);
  for (const [a, b] of topology.pairs) {
    // Two accounts of one attacker keep books of their own: what it does to them is its
    // business, and their dealings cancel out of every other account's net position.
    if (!honest(a) && !honest(b)) continue;
    const pair = `${accounts[a].name} / ${accounts[b].name}`;
    for (const [creditor, debtor] of [[a, b], [b, a]]) {
      const amount = await read(creditor, debtor, "trustline_out.txt");
      const counter = await read(creditor, debtor, "counter.txt");
      const syncOut = await read(creditor, debtor, "sync_out.txt");
      const received = await read(debtor, creditor, "trustline_in.txt");
      const syncIn = await read(debtor, creditor, "sync_in.txt");
      const line = `${accounts[creditor].name} → ${accounts[debtor].name}`;
      const allowed = model.trustlines.get(`${creditor} ${debtor}`) ?? [0n];
      if (!allowed.includes(amount)) {
        world.violate("trustline-lost", `${line}: ${amount}, expected one of ${allowed}`);
      }
      if (received !== amount || syncIn !== counter || syncOut !== counter) {
        world.violate(
          "trustline-disagrees",
          `${line}: out ${amount} counter ${counter} sync_out ${syncOut}; ` +
            `in ${received} sync_in ${syncIn}`,
        );
      }
    }
    const ab = await readBooks(
      new Tx(node(accounts[a])!.store),
      accounts[a].ref.username,
      accounts[b].ref,
    );
    const ba = await readBooks(
      new Tx(node(accounts[b])!.store),
      accounts[b].ref.username,
      accounts[a].ref,
    );
    if (ab.balance !== -ba.balance) {
      world.violate("balance-disagrees", `${pair}: ${ab.balance} and ${ba.balance}`);
    }
    if (ab.lockedIn + ab.lockedOut + ba.lockedIn + ba.lockedOut !== 0n) {
      world.violate("lock-left", `${pair}: ${show(ab)}; ${show(ba)}`);
    }
    net[a] += ab.balance;
    net[b] += ba.balance;
  }
  if (net.reduce((sum, x) => sum + x, 0n) !== 0n) {
    world.violate("net-not-zero", `the net positions sum to ${net.reduce((s, x) => s + x, 0n)}`);
  }

  for (const account of accounts) {
    const tx = new Tx(node(account)!.store);
    for (const idHex of await listPayments(tx, account.ref.username, false)) {
      const record = await readPayment(tx, account.ref.username, idHex);
      world.violate(
        "payment-unfinished",
        `${account.name}: ${idHex.slice(0, 12)} (${record?.role} ${record?.state}${
          record?.claimed ? ", claimed" : ""
        })`,
      );
    }
  }
  const expected = accounts.map(() => 0n);
  for (const payment of model.payments) {
    const buyer = accounts[payment.buyer], seller = accounts[payment.seller];
    const bought = await readPayment(new Tx(node(buyer)!.store), buyer.ref.username, payment.idHex);
    const sold = await readPayment(new Tx(node(seller)!.store), seller.ref.username, payment.idHex);
    const completed = bought?.state === "completed";
    payment.completed = completed && sold?.state === "completed";
    payment.reason = bought?.state === "failed" ? bought.reason : 0;
    // Released in full above a server that held the payment up, and paid by that server
    // below it (docs/protocol.md §9): the buyer paid nothing and the seller was paid.
    const releasedAway = bought?.state === "failed" && bought.reason === Reason.Released &&
      sold?.state === "completed";
    if (completed !== (sold?.state === "completed") && !releasedAway) {
      world.violate(
        "outcome-disagrees",
        `${payment.idHex.slice(0, 12)}: buyer ${bought?.state ?? "none"}, seller ${
          sold?.state ?? "none"
        }`,
      );
    }
    if (completed) {
      outcomes.completed++;
      outcomes.durations.push(bought!.updatedAt - bought!.createdAt);
      // The buyer's debt grows by the amount, the seller's claims by the same.
      expected[payment.buyer] -= payment.amount;
      expected[payment.seller] += payment.amount;
    } else if (bought !== undefined) {
      outcomes.failed++;
      outcomes.reasons[bought.reason] = (outcomes.reasons[bought.reason] ?? 0) + 1;
    }
  }
  // Net position here is what others owe the account: the seller is owed, the buyer owes.
  // A hostile account's own payments are not in the model: only honest ones are checked. An
  // honest account may end above what its payments explain (it was paid for waiting on one
  // that held a payment up), never below; without hostile servers, exactly there.
  const strict = accounts.every((_, i) => honest(i));
  for (let i = 0; i < accounts.length; i++) {
    if (!honest(i)) continue;
    if (net[i] < expected[i] || (strict && net[i] !== expected[i])) {
      world.violate(
        "net-position",
        `${accounts[i].name} ends at ${net[i]}, its completed payments make ${expected[i]}`,
      );
    }
    outcomes.honestGain += net[i] - expected[i];
  }
  return outcomes;
}

function show(books: Books): string {
  return `trust out ${books.trustlineOut} in ${books.trustlineIn} balance ${books.balance} ` +
    `locked in ${books.lockedIn} out ${books.lockedOut}`;
}
