/**
 * Hostile servers for the simulator: real nodes whose traffic an attacker holding their keys
 * rewrites, holds back, slows, floods and replays. docs/simulator.md lists the behaviours.
 */

import { toHex } from "../auth/keys.ts";
import type { Client } from "../client/client.ts";
import * as api from "../client/commands.ts";
import type { Limits } from "../core/config.ts";
import { ServerCommand } from "../wire/commands.ts";
import {
  type DatagramFields,
  decodeDatagram,
  encodeDatagram,
  SIGNATURE_SIZE,
  signedBytes,
} from "../wire/datagram.ts";
import { committedArgs, paymentArgs, searchArgs } from "../wire/arguments.ts";
import type { AccountRef } from "../wire/names.ts";
import type { SimClock } from "./clock.ts";
import { SyncMac } from "./mac.ts";
import type { Random } from "./random.ts";

/** What a hostile server does; each one is switched on by name. */
export const BEHAVIOURS = [
  /** Probes with made-up payment ids to its honest neighbours, round 1 then round 2. */
  "flood-probes",
  /** Payments between its own accounts through honest ones, whose commit it never sends. */
  "flood-locks",
  /** For some payments it relays: silence from the lock on (nothing of the payment leaves). */
  "stall-lock",
  /**
   * For some payments: silence after the commit for a while, then back: from a second to one
   * and a half times the commit deadline plus the release period, so that some stalls end
   * before the deadline, some during the release and some after it. Half the time the
   * commit itself still goes down, so that the accounts below learn the payment is
   * irrevocable and the stall is one of saying so upwards.
   */
  "stall-commit",
  /** For some payments: silence after the commit, forever. */
  "stall-commit-forever",
  /**
   * For some payments it relays: takes the commit and passes nothing on, but answers every
   * commit and query from upstream with waiting, as an honest hop waiting on its downstream.
   */
  "stall-waiting",
  /**
   * For some payments it relays: takes the commit, passes nothing down, and tells its
   * upstream committed, with a made-up receipt secret, as if the seller held the commit.
   */
  "lie-committed",
  /** For some payments: every datagram held back until just under the timeout it races. */
  "slow",
  /** Old datagrams sent again: as they were (old counter), re-signed, and out of order. */
  "replay",
  /** Copies of its datagrams with the amount changed, re-signed. */
  "wrong-amount",
] as const;

/** One hostile behaviour. */
export type Behaviour = (typeof BEHAVIOURS)[number];

/** The behaviours a payment passing a hostile server may meet; one is chosen per payment. */
const PER_PAYMENT: Behaviour[] = [
  "stall-lock",
  "stall-commit",
  "stall-commit-forever",
  "stall-waiting",
  "lie-committed",
  "slow",
];

/** Hostile servers of a run. */
export interface HostileOptions {
  /** How many servers are hostile; the seed chooses which. */
  servers: number;
  behaviours: Behaviour[];
  /** Mean simulated time between two attacks of each timed behaviour (floods, replays). */
  attackEveryMs: number;
  /**
   * Nobody extends credit to or from the hostile servers' accounts: their opening trustlines
   * are 0 and honest accounts never raise one towards them, as if those servers were not
   * there: a baseline that honest completion may be judged against.
   */
  untrusted: boolean;
}

/** Every behaviour. */
export const DEFAULT_BEHAVIOURS: Behaviour[] = [...BEHAVIOURS];

/** No hostile server. */
export const NO_HOSTILE: HostileOptions = {
  servers: 0,
  behaviours: DEFAULT_BEHAVIOURS,
  attackEveryMs: 1_000,
  untrusted: false,
};

/** An account of the hostile server, with what the attacker knows of it. */
export interface HostileAccount {
  ref: AccountRef;
  client: Client;
  /** Its peers, each with the key the two share. */
  peers: { ref: AccountRef; key: Uint8Array; hostile: boolean }[];
}

/** What a hostile server needs from the world. */
export interface HostileNeeds {
  address: string;
  accounts: HostileAccount[];
  clock: SimClock;
  random: Random;
  behaviours: Behaviour[];
  attackEveryMs: number;
  limits: Limits;
  /** Puts a datagram on the simulated network. */
  send(to: string, bytes: Uint8Array): Promise<void>;
}

/** How a payment's datagrams fare at this server. */
type Fate =
  | { kind: "none" }
  | { kind: "stall-lock" }
  /** Silence from the commit on; `passCommit`: the commit itself still goes down. */
  | { kind: "stall-commit"; until: number | null; forMs: number; passCommit: boolean }
  /** `upstream`: the account (`name@address`) the node first said waiting to. */
  | { kind: "stall-waiting"; upstream: string | null }
  /** `upstream` as for stall-waiting; `lied`: the made-up committed went up. */
  | { kind: "lie-committed"; upstream: string | null; lied: boolean }
  | { kind: "slow" };

/** A datagram as the attacker sent it. */
interface Sent {
  to: string;
  fields: DatagramFields;
  bytes: Uint8Array;
}

const RECENT = 256;

/**
 * What the node hears of a datagram its attacker keeps back: that it did not get through, as
 * a server whose network is cut would.
 */
function silence(): Promise<void> {
  return Promise.reject(new Error("kept back by the attacker"));
}
const mac = new SyncMac();

/** The payment a step datagram is about: its id and amount, whatever else its arguments carry. */
function stepOf(args: Uint8Array): { id: Uint8Array; amount: bigint } {
  const view = new DataView(args.buffer, args.byteOffset, args.byteLength);
  return { id: args.slice(0, 32), amount: view.getBigUint64(32) };
}

/**
 * The attacker of one server. Every datagram its node sends passes {@linkcode send}: it is
 * dropped, held back or passed on, and re-signed with the attacker's own counters, which
 * lets the attacker add datagrams of its own to the same stream.
 */
export class HostileServer {
  readonly address: string;
  /** Datagrams the attacker dropped, held back or made up, by behaviour. */
  readonly counts: Partial<Record<Behaviour, number>> = {};
  #needs: HostileNeeds;
  #counters = new Map<string, number>();
  /** The last datagrams sent, as they went out. */
  #recent: Sent[] = [];
  #fates = new Map<string, Fate>();
  #attackIds = new Set<string>();
  #busy = new Set<HostileAccount>();
  #timers: { cancel(): void }[] = [];
  #attacking = false;

  constructor(needs: HostileNeeds) {
    this.address = needs.address;
    this.#needs = needs;
  }

  /** Starts the timed behaviours. */
  startAttacks(): void {
    this.#attacking = true;
    const timed: [Behaviour, () => void][] = [
      ["flood-probes", () => this.#floodProbe()],
      ["flood-locks", () => this.#floodLock()],
      ["replay", () => this.#replay()],
      ["wrong-amount", () => this.#wrongAmount()],
    ];
    for (const [behaviour, attack] of timed) {
      if (this.#needs.behaviours.includes(behaviour)) this.#every(attack);
    }
  }

  /** Ends the timed behaviours; payments already stalled stay as their fate says. */
  stopAttacks(): void {
    this.#attacking = false;
    for (const timer of this.#timers) timer.cancel();
    this.#timers = [];
  }

  /** The node's way out: what it sends, as the attacker lets it go. */
  send(to: string, bytes: Uint8Array): Promise<void> {
    const fields = decodeDatagram(bytes);
    const command = fields.command;
    if (command < ServerCommand.Search) return this.#reseal(to, fields);
    const idHex = toHex(fields.arguments.subarray(0, 32));
    if (this.#attackIds.has(idHex) && command === ServerCommand.Commit) {
      return this.#count("flood-locks", silence());
    }
    const fate = this.#fate(idHex);
    const step = command >= ServerCommand.Lock && command !== ServerCommand.SearchEnd;
    if (fate.kind === "stall-lock" && step) return this.#count("stall-lock", silence());
    if (fate.kind === "stall-waiting" && step) {
      // A hop's locked goes to its upstream, before any commit.
      const receiver = `${fields.username}@${to}`;
      if (command === ServerCommand.Locked) fate.upstream ??= receiver;
      else if (fate.upstream !== null && command >= ServerCommand.Commit) {
        // From the commit on nothing goes down (so nothing below ever commits, and the node's
        // books stay what its neighbours can agree with); whatever goes up becomes waiting.
        if (receiver !== fate.upstream) return this.#count("stall-waiting", silence());
        const args = paymentArgs.encode(stepOf(fields.arguments));
        this.#count("stall-waiting", Promise.resolve());
        return this.#reseal(to, { ...fields, command: ServerCommand.Waiting, arguments: args });
      }
    }
    if (fate.kind === "lie-committed" && step) {
      const receiver = `${fields.username}@${to}`;
      if (command === ServerCommand.Locked) fate.upstream ??= receiver;
      else if (fate.upstream !== null && command >= ServerCommand.Commit) {
        // The node's first word up after it took the commit (its waiting) becomes committed,
        // with 32 random bytes for the secret; everything else of the payment is kept back,
        // so nothing below ever commits.
        if (receiver !== fate.upstream || fate.lied) return this.#count("lie-committed", silence());
        fate.lied = true;
        const { id, amount } = stepOf(fields.arguments);
        const args = committedArgs.encode({ id, amount, secret: this.#needs.random.bytes(32) });
        this.#count("lie-committed", Promise.resolve());
        return this.#reseal(to, { ...fields, command: ServerCommand.Committed, arguments: args });
      }
    }
    const passing = fate.kind === "stall-commit" && fate.passCommit &&
      command === ServerCommand.Commit;
    if (fate.kind === "stall-commit" && command >= ServerCommand.Commit && step && !passing) {
      const now = this.#needs.clock.now();
      fate.until ??= now + fate.forMs;
      if (now < fate.until) {
        const behaviour = fate.forMs === Infinity ? "stall-commit-forever" : "stall-commit";
        return this.#count(behaviour, silence());
      }
    }
    if (fate.kind === "slow") {
      this.#count("slow", Promise.resolve());
      this.#needs.clock.setTimer(
        this.#slowMs(command),
        () => void this.#reseal(to, fields).catch(() => {}),
      );
      return Promise.resolve();
    }
    return this.#reseal(to, fields);
  }

  /** The fate of a payment at this server, drawn once per payment id. */
  #fate(idHex: string): Fate {
    let fate = this.#fates.get(idHex);
    if (fate !== undefined) return fate;
    const kinds = PER_PAYMENT.filter((b) => this.#needs.behaviours.includes(b));
    // About half the payments pass untouched, so that the server looks honest to its peers.
    const random = this.#needs.random;
    const kind = kinds.length === 0 || random.chance(0.5) ? "none" : random.pick(kinds);
    fate = kind === "stall-commit" || kind === "stall-commit-forever"
      ? {
        kind: "stall-commit",
        until: null,
        forMs: kind === "stall-commit" ? random.between(1_000, this.#longestStall()) : Infinity,
        passCommit: random.chance(0.5),
      }
      : kind === "stall-waiting"
      ? { kind, upstream: null }
      : kind === "lie-committed"
      ? { kind, upstream: null, lied: false }
      : { kind } as Fate;
    this.#fates.set(idHex, fate);
    return fate;
  }

  /** The longest stall that ends: past the end of every release it could cause. */
  #longestStall(): number {
    const limits = this.#needs.limits;
    return Math.round(1.5 * (limits.commitDeadlineMs + limits.releasePeriodMs));
  }

  /** Just under the timeout a datagram races at the other side. */
  #slowMs(command: number): number {
    const limits = this.#needs.limits;
    if (command <= ServerCommand.SearchReport || command === ServerCommand.SearchEnd) {
      return Math.floor(limits.probeTimeoutMs * 0.9);
    }
    // The lock goes down and its answer comes back within one lock time-out: half each.
    if (command === ServerCommand.Lock || command === ServerCommand.Locked) {
      return Math.floor(limits.lockTimeoutMs * 0.45);
    }
    return Math.floor(limits.commitQueryMs * 0.9);
  }

  #floodProbe(): void {
    const target = this.#honestPeer();
    if (target === undefined) return;
    const random = this.#needs.random;
    const id = random.bytes(32);
    const amount = BigInt(random.between(1, 50));
    for (const round of [1, 2]) {
      this.#needs.clock.setTimer(round * 50, () => {
        const args = searchArgs.encode({ id, amount, front: 0, round });
        this.#forge("flood-probes", target.from, target.to, ServerCommand.Search, args)
          .catch(() => {});
      });
    }
  }

  /** A payment between two of this server's accounts, through honest ones, never committed. */
  #floodLock(): void {
    const random = this.#needs.random;
    const accounts = this.#needs.accounts;
    if (accounts.length < 2) {
      // Alone, the attacker can only send locks no search prepared.
      const target = this.#honestPeer();
      if (target === undefined) return;
      const args = paymentArgs.encode({ id: random.bytes(32), amount: 10n });
      this.#forge("flood-locks", target.from, target.to, ServerCommand.Lock, args).catch(() => {});
      return;
    }
    const buyer = random.pick(accounts);
    const seller = random.pick(accounts.filter((a) => a !== buyer));
    const id = random.bytes(32);
    const amount = BigInt(random.between(1, 50));
    // A client sends one request at a time, or its counters would overtake each other.
    if (this.#busy.has(buyer) || this.#busy.has(seller)) return;
    this.#busy.add(buyer).add(seller);
    this.#attackIds.add(toHex(id));
    this.#count("flood-locks", Promise.resolve());
    (async () => {
      await api.newPaymentIn(seller.client, buyer.ref, id, amount);
      await api.newPaymentOut(buyer.client, seller.ref, id, amount);
    })().catch(() => {}).finally(() => {
      this.#busy.delete(buyer);
      this.#busy.delete(seller);
    });
  }

  #replay(): void {
    const random = this.#needs.random;
    if (this.#recent.length === 0) return;
    const picked = Array.from({ length: random.between(1, 3) }, () => random.pick(this.#recent));
    // Out of order: the newest of those picked first.
    for (const sent of picked.reverse()) {
      this.#count("replay", Promise.resolve());
      const sending = random.chance(0.5)
        ? this.#needs.send(sent.to, sent.bytes)
        : this.#reseal(sent.to, sent.fields);
      sending.catch(() => {});
    }
  }

  #wrongAmount(): void {
    const random = this.#needs.random;
    const steps = this.#recent.filter((sent) => sent.fields.command >= ServerCommand.Search);
    if (steps.length === 0) return;
    const { to, fields } = random.pick(steps);
    const args = fields.arguments.slice();
    const view = new DataView(args.buffer, args.byteOffset + 32, 8);
    view.setBigUint64(0, view.getBigUint64(0) + BigInt(random.between(1, 50)));
    this.#count("wrong-amount", Promise.resolve());
    void this.#reseal(to, { ...fields, arguments: args }).catch(() => {});
  }

  #every(attack: () => void): void {
    if (!this.#attacking) return;
    const random = this.#needs.random;
    const delay = Math.round(-Math.log(1 - random.next()) * this.#needs.attackEveryMs) + 1;
    this.#timers.push(this.#needs.clock.setTimer(delay, () => {
      attack();
      this.#every(attack);
    }));
  }

  /** An honest neighbour of one of this server's accounts, chosen at random. */
  #honestPeer(): { from: AccountRef; to: AccountRef } | undefined {
    const random = this.#needs.random;
    const choices = this.#needs.accounts.flatMap((account) =>
      account.peers.filter((p) => !p.hostile).map((p) => ({ from: account.ref, to: p.ref }))
    );
    return choices.length === 0 ? undefined : random.pick(choices);
  }

  #forge(
    behaviour: Behaviour,
    from: AccountRef,
    to: AccountRef,
    command: number,
    args: Uint8Array,
  ): Promise<void> {
    const fields: DatagramFields = {
      command,
      username: to.username,
      peerUsername: from.username,
      peerAddress: from.address,
      arguments: args,
      counter: 0,
    };
    return this.#count(behaviour, this.#reseal(to.address, fields));
  }

  /** Sends `fields` with the attacker's next counter for its pair, signed with their key. */
  #reseal(to: string, fields: DatagramFields): Promise<void> {
    const key = this.#keyOf(to, fields);
    if (key === undefined) return Promise.reject(new Error(`no key for ${to}`));
    const pair = `${fields.peerUsername} ${fields.username}@${to}`;
    const counter = Math.max((this.#counters.get(pair) ?? 0) + 1, fields.counter);
    this.#counters.set(pair, counter);
    const sealed = { ...fields, counter };
    const unsigned = encodeDatagram(sealed, new Uint8Array(SIGNATURE_SIZE));
    const bytes = encodeDatagram(sealed, mac.signNow(key, signedBytes(unsigned)));
    this.#recent.push({ to, fields: sealed, bytes });
    if (this.#recent.length > RECENT) this.#recent.shift();
    return this.#needs.send(to, bytes);
  }

  /** The key this server's account shares with the receiver of a datagram to `to`. */
  #keyOf(to: string, fields: DatagramFields): Uint8Array | undefined {
    const account = this.#needs.accounts.find((a) => a.ref.username === fields.peerUsername);
    return account?.peers.find((p) => p.ref.username === fields.username && p.ref.address === to)
      ?.key;
  }

  #count(behaviour: Behaviour, done: Promise<void>): Promise<void> {
    this.counts[behaviour] = (this.counts[behaviour] ?? 0) + 1;
    return done;
  }
}
