/** The random client operations of a simulation run, and the model of what they leave behind. */

import { toHex } from "../auth/keys.ts";
import { receiptId } from "../auth/receipts.ts";
import { ClientError } from "../client/client.ts";
import * as api from "../client/commands.ts";
import { Status } from "../wire/response.ts";
import type { Model } from "./invariants.ts";
import type { Random } from "./random.ts";
import type { SimOptions } from "./run.ts";
import type { Strangers } from "./strangers.ts";
import type { SimAccount, Topology } from "./topology.ts";
import type { SimWorld } from "./world.ts";

/** The random client operations of a run, and the model of what they should leave behind. */
export class Workload {
  readonly model: Model = { trustlines: new Map(), payments: [] };
  readonly counts = { trustlines: 0, payments: 0, refused: 0, uncertain: 0 };
  #world: SimWorld;
  #topology: Topology;
  #random: Random;
  #options: SimOptions;
  /** Accounts with a client operation in progress: one at a time per account. */
  #busy = new Set<number>();
  #running = new Set<Promise<void>>();
  #done!: () => void;
  readonly finished = new Promise<void>((resolve) => this.#done = resolve);
  #left: number;

  /** The accounts the workload pays between and changes the trustlines of: the honest ones. */
  #honest: number[];

  constructor(
    world: SimWorld,
    topology: Topology,
    random: Random,
    options: SimOptions,
    strangers: Strangers,
  ) {
    this.#world = world;
    this.#topology = topology;
    this.#random = random;
    this.#options = options;
    this.#left = options.steps;
    this.#honest = topology.accounts.map((_, i) => i).filter((i) => strangers.honest(i));
  }

  /**
   * Sets an opening trustline on every pair (so payments have credit), then the steps;
   * returns when the steps begin (ms from now).
   */
  schedule(): number {
    let at = 0;
    if (this.#options.paymentShare > 0) {
      for (const [a, b] of this.#topology.pairs) {
        at += 5;
        this.#left += 2;
        this.#at(at, () => this.#setTrustline(a, b, this.#opening(a, b)));
        this.#at(at, () => this.#setTrustline(b, a, this.#opening(b, a)));
      }
    }
    if (this.#left === 0) this.#done();
    const stepsFrom = at;
    for (let step = 0; step < this.#options.steps; step++) {
      at += Math.round(-Math.log(1 - this.#random.next()) * this.#options.stepEveryMs);
      this.#at(at, () => {
        if (this.#random.chance(this.#options.paymentShare)) return this.#payment(step);
        const [a, b] = this.#random.pick(this.#topology.pairs);
        let [creditor, debtor] = this.#random.chance(0.5) ? [a, b] : [b, a];
        // Only honest accounts change trustlines: an attacker's are its own business.
        if (!this.#honest.includes(creditor)) [creditor, debtor] = [debtor, creditor];
        const amount = this.#nextAmount(creditor, debtor);
        if (!this.#honest.includes(creditor)) return Promise.resolve();
        if (this.#options.hostile.untrusted && !this.#honest.includes(debtor)) {
          return Promise.resolve();
        }
        return this.#setTrustline(creditor, debtor, amount);
      });
    }
    return stepsFrom;
  }

  /**
   * An opening trustline: drawn for every pair whatever the run, so that the runs with and
   * without attacks draw the same steps, and 0 on a pair with a hostile account when nobody
   * trusts them.
   */
  #opening(creditor: number, debtor: number): bigint {
    const amount = BigInt(this.#random.between(50, 500));
    const hostile = !this.#honest.includes(creditor) || !this.#honest.includes(debtor);
    return this.#options.hostile.untrusted && hostile ? 0n : amount;
  }

  /** Payment runs only raise trustlines, so a limit never falls below a debt. */
  #nextAmount(creditor: number, debtor: number): bigint {
    if (this.#options.paymentShare === 0) return BigInt(this.#random.between(0, 1000));
    const now = this.model.trustlines.get(`${creditor} ${debtor}`) ?? [0n];
    const highest = now.reduce((a, b) => (a > b ? a : b), 0n);
    return highest + BigInt(this.#random.between(0, 100));
  }

  #at(delayMs: number, operation: () => Promise<void>): void {
    this.#world.clock.setTimer(delayMs, () => {
      const running = operation().catch((error) => {
        this.#world.violate("workload-failed", String(error?.stack ?? error));
      }).finally(() => {
        this.#running.delete(running);
        if (--this.#left === 0) this.#done();
      });
      this.#running.add(running);
    });
  }

  async #setTrustline(creditor: number, debtor: number, amount: bigint): Promise<void> {
    if (!this.#claim(creditor)) return;
    const key = `${creditor} ${debtor}`;
    try {
      this.counts.trustlines++;
      const outcome = await this.#call(() =>
        api.setTrustline(this.#client(creditor), this.#ref(debtor), amount)
      );
      const allowed = this.model.trustlines.get(key) ?? [0n];
      if (outcome === "ok") this.model.trustlines.set(key, [amount]);
      else if (outcome === "uncertain") this.model.trustlines.set(key, [...allowed, amount]);
    } finally {
      this.#busy.delete(creditor);
    }
  }

  /** Workload step `step`: a payment between two honest accounts, if both are free. */
  async #payment(step: number): Promise<void> {
    const honest = this.#honest;
    const b = this.#random.int(honest.length);
    let s = this.#random.int(honest.length - 1);
    if (s >= b) s++;
    const [buyer, seller] = [honest[b], honest[s]];
    // Drawn before the accounts are claimed, so that a step is the same payment whatever
    // else is in progress (runs with and without attacks are compared step by step).
    const secret = this.#random.bytes(32);
    const receipts = this.#options.receipts;
    const id = receipts ? receiptId(secret) : secret;
    const amount = BigInt(this.#random.between(1, 50));
    if (!this.#claim(buyer)) return;
    if (!this.#claim(seller)) return void this.#busy.delete(buyer);
    const idHex = toHex(id);
    this.model.payments.push({ step, id, idHex, buyer, seller, amount });
    this.counts.payments++;
    try {
      const [b, s] = [this.#client(buyer), this.#client(seller)];
      const given = receipts ? secret : undefined;
      await this.#call(() => api.newPaymentIn(s, this.#ref(buyer), id, amount, given));
      await this.#call(() =>
        api.newPaymentOut(b, this.#ref(seller), id, amount, undefined, receipts)
      );
    } finally {
      this.#busy.delete(buyer);
      this.#busy.delete(seller);
    }
  }

  /** "ok", "refused" (it certainly did not happen) or "uncertain" (it may have). */
  async #call(request: () => Promise<void>): Promise<"ok" | "refused" | "uncertain"> {
    try {
      await request();
      return "ok";
    } catch (error) {
      if (error instanceof ClientError && error.status !== Status.InternalError) {
        this.counts.refused++;
        return "refused";
      }
      this.counts.uncertain++;
      return "uncertain";
    }
  }

  #claim(index: number): boolean {
    if (this.#busy.has(index)) return false;
    this.#busy.add(index);
    return true;
  }

  #client(index: number) {
    const account: SimAccount = this.#topology.accounts[index];
    return this.#world.client(account.ref, account.key);
  }

  #ref(index: number) {
    return this.#topology.accounts[index].ref;
  }
}
