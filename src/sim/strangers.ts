/**
 * Hostile servers in a run: which servers they are, their attackers, and the invariants
 * about the honest accounts around them.
 */

import { DEFAULT_LIMITS, type Limits, peerLimitsFor } from "../core/config.ts";
import { listPayments, type PaymentRecord, readPayment } from "../payments/record.ts";
import { lockCap, readBooks } from "../store/books.ts";
import { Tx } from "../store/tx.ts";
import { type AccountRef, formatAccountRef } from "../wire/names.ts";
import { claimGivenUpAt } from "../payments/deadlines.ts";
import { HeldUpWatch } from "./held_up_watch.ts";
import { type HostileAccount, type HostileOptions, HostileServer } from "./hostile.ts";
import type { SimPayment } from "./invariants.ts";
import type { Random } from "./random.ts";
import type { Topology } from "./topology.ts";
import type { SimWorld } from "./world.ts";

/** The hostile servers of a run and the limits the honest ones must keep. */
export class Strangers {
  readonly servers: HostileServer[] = [];
  readonly limits: Limits;
  #world: SimWorld;
  #topology: Topology;
  #hostile: Set<string>;

  /**
   * Chooses `options.servers` servers by the seed and puts an attacker on each; with no
   * behaviours the attacker passes everything on (the same run without hostile servers).
   */
  constructor(
    world: SimWorld,
    topology: Topology,
    random: Random,
    options: HostileOptions,
    limits: Partial<Limits>,
  ) {
    this.#world = world;
    this.#topology = topology;
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    const order = [...topology.addresses];
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    this.#hostile = new Set(order.slice(0, Math.min(options.servers, order.length)));
    for (const address of this.#hostile) {
      const server = new HostileServer({
        address,
        accounts: this.#accountsOf(address),
        clock: world.clock,
        random: random.fork(),
        behaviours: options.behaviours,
        attackEveryMs: options.attackEveryMs,
        limits: this.limits,
        send: (to, bytes) => world.network.send(address, to, bytes),
      });
      world.hostile.set(address, server);
      this.servers.push(server);
    }
    world.network.watchers.push(
      new HeldUpWatch({
        limits: this.limits,
        honest: (address) => !this.#hostile.has(address),
        life: (address) => world.servers.get(address)?.node ?? null,
        violate: (invariant, detail) => world.violate(invariant, detail),
      }),
    );
  }

  /** Whether account `index` lives on an honest server. */
  honest(index: number): boolean {
    return !this.#hostile.has(this.#topology.accounts[index].ref.address);
  }

  startAttacks(): void {
    for (const server of this.servers) server.startAttacks();
  }

  stopAttacks(): void {
    for (const server of this.servers) server.stopAttacks();
  }

  /**
   * At every honest account: no payment in flight outlives its end (record-outlived), and for
   * every neighbour, payments passing through hold no more credit in locks on either edge than
   * the neighbour's share allows, no more than its payments in flight, and the neighbour holds
   * no more than its share of search states (neighbour-cap).
   */
  async check(): Promise<void> {
    const accounts = this.#topology.accounts;
    for (const [index, account] of accounts.entries()) {
      const node = this.#world.servers.get(account.ref.address)!.node;
      if (node === null || !this.honest(index)) continue;
      const tx = new Tx(node.store);
      const passing = new Map<string, { in: bigint; out: bigint; count: number }>();
      const entry = (peer: AccountRef) => {
        const key = formatAccountRef(peer);
        let value = passing.get(key);
        if (value === undefined) passing.set(key, value = { in: 0n, out: 0n, count: 0 });
        return value;
      };
      for (const idHex of await listPayments(tx, account.ref.username, false)) {
        const record = await readPayment(tx, account.ref.username, idHex);
        if (record === undefined) continue;
        const endBy = this.#endBy(record);
        if (this.#world.clock.now() > endBy) {
          this.#world.violate(
            "record-outlived",
            `${account.name} still has payment ${idHex.slice(0, 12)} (${record.role}, ` +
              `${record.state}) ${this.#world.clock.now() - endBy} ms past its end`,
          );
        }
        if (record.role !== "hop") continue;
        if (record.inEdge === "locked") entry(record.upstream!).in += record.amount;
        if (record.outEdge === "locked") entry(record.downstream!).out += record.amount;
        entry(record.upstream!).count++;
        entry(record.downstream!).count++;
      }
      for (const peer of account.peers.map((i) => accounts[i].ref)) {
        const name = formatAccountRef(peer);
        const limits = peerLimitsFor(this.limits, account.ref.username, name);
        const books = await readBooks(tx, account.ref.username, peer);
        const held = passing.get(name) ?? { in: 0n, out: 0n, count: 0 };
        const share = limits.peerLockSharePercent;
        const searches = node.search.table.openedBy(account.ref.username, peer);
        const broken = [
          share < 100 && held.in > lockCap(books.trustlineOut, share) &&
          `locks in ${held.in} of a trustline of ${books.trustlineOut}`,
          share < 100 && held.out > lockCap(books.trustlineIn, share) &&
          `locks out ${held.out} of a trustline of ${books.trustlineIn}`,
          held.count > limits.peerPaymentsInFlight && `${held.count} payments passing through`,
          searches > limits.peerSearches && `${searches} searches`,
        ].filter((problem) => problem !== false);
        for (const problem of broken) {
          this.#world.violate("neighbour-cap", `${account.name} with ${name}: ${problem}`);
        }
      }
    }
  }

  /**
   * When a record in flight must have ended at the latest (docs/protocol.md §9), with slack
   * for a chunk, the grace after a restart and delivery: before the commit its lock's
   * expiry; committed and waiting on the downstream, the deadline plus the release period;
   * irrevocable and waiting on the upstream, the claim time; finalizing, the downstream's
   * claim time plus a margin.
   */
  #endBy(record: PaymentRecord): number {
    const limits = this.limits;
    const slack = limits.releaseChunkMs + limits.releaseGraceMs + 60_000;
    switch (record.state) {
      case "locking":
      case "locked":
        return record.lockExpires + slack;
      // The release period is the configured one, so a server that takes longer is caught.
      case "committed":
        return (record.irrevocable || record.role === "seller")
          ? record.claimAt + slack
          : record.deadline + limits.releasePeriodMs + slack;
      case "finalizing":
        return record.claimed
          ? claimGivenUpAt(record, limits) + slack
          : record.committedAt + record.passClaim + limits.commitMarginMs + slack;
      // Ended, but its claim still waits for the upstream's answer.
      case "completed":
        return claimGivenUpAt(record, limits) + slack;
      default:
        return record.createdAt + limits.searchTimeoutMs + slack;
    }
  }

  /**
   * Whether a payment's path touched a hostile server, by following the records from the
   * buyer down; a payment whose path is not known (no path was found) did not.
   */
  async touched(payment: SimPayment): Promise<boolean> {
    let at: AccountRef | null = this.#topology.accounts[payment.buyer].ref;
    for (let hops = 0; at !== null && hops <= this.#topology.accounts.length; hops++) {
      if (this.#hostile.has(at.address)) return true;
      const node = this.#world.servers.get(at.address)?.node;
      if (node === null || node === undefined) return false;
      const record = await readPayment(new Tx(node.store), at.username, payment.idHex);
      at = record?.downstream ?? null;
    }
    return false;
  }

  /**
   * For every record at an honest account that ended after its deadline (it waited on a
   * neighbour that held it up): simulated ms from its commit to its end.
   */
  async stalledEnds(): Promise<number[]> {
    const durations: number[] = [];
    for (const [index, account] of this.#topology.accounts.entries()) {
      const node = this.#world.servers.get(account.ref.address)!.node;
      if (node === null || !this.honest(index)) continue;
      const tx = new Tx(node.store);
      for (const idHex of await listPayments(tx, account.ref.username, true)) {
        const record = await readPayment(tx, account.ref.username, idHex);
        const overdue = record !== undefined && record.deadline > 0 &&
          (record.updatedAt > record.deadline ||
            (record.claimAt > 0 && record.updatedAt > record.claimAt));
        if (overdue) durations.push(record!.updatedAt - record!.committedAt);
      }
    }
    return durations;
  }

  #accountsOf(address: string): HostileAccount[] {
    const accounts = this.#topology.accounts;
    return accounts.filter((a) => a.ref.address === address).map((account) => {
      const index = accounts.indexOf(account);
      return {
        ref: account.ref,
        client: this.#world.client(account.ref, account.key),
        peers: account.peers.map((peer) => ({
          ref: accounts[peer].ref,
          key: this.#topology.keys.get(index < peer ? `${index} ${peer}` : `${peer} ${index}`)!,
          hostile: this.#hostile.has(accounts[peer].ref.address),
        })),
      };
    });
  }
}
