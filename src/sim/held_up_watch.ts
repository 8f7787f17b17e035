/**
 * The held-up limit seen from the wire (docs/protocol.md §8): an observer of every datagram
 * that keeps its own account of which neighbours hold payments up at each honest account
 * (and leave its locks unanswered), and flags a lock passing through that account towards a
 * neighbour at its limit.
 */

import { toHex } from "../auth/keys.ts";
import { type Limits, peerLimitsFor } from "../core/config.ts";
import { startClock, stopClock } from "../payments/held_up.ts";
import { releasedArgs } from "../wire/arguments.ts";
import { ServerCommand } from "../wire/commands.ts";
import type { DatagramFields } from "../wire/datagram.ts";

/**
 * Added to `held_up_after_ms` before the observer counts a payment as held up: the account
 * decides at its handler's time and the datagram leaves after its change set is durable, and
 * the observer, which sees the send, must never count more than the account could.
 */
const SLACK_MS = 1_000;

/** Words from a downstream about a payment that stop its held-up clocks (locked and finalized do not). */
const WORDS = new Set<number>([
  ServerCommand.Committed,
  ServerCommand.Abort,
  ServerCommand.Claim,
  ServerCommand.Waiting,
]);

/** One clock's place: its map, the outer key and the inner key. */
type Clock = [Map<string, Map<string, number>>, string, string];

/** What the watch needs of the run around it. */
export interface HeldUpWatchOptions {
  limits: Limits;
  /** Whether the server at `address` is honest (only honest accounts are judged). */
  honest(address: string): boolean;
  /** The server's current node, to notice a restart (which empties the account's memory). */
  life(address: string): object | null;
  violate(invariant: string, detail: string): void;
}

/**
 * Keeps, for every honest account and neighbour, when each commit or query it sent went
 * unanswered, by the same rule the account applies (§8), but from the datagrams on the wire:
 * the first commit or query about a payment since the neighbour's last word starts a clock;
 * any word about it from the neighbour, an abort or a release of the whole amount to it, and
 * a restart of the account's server stop it. Silence counts per pair of servers: a payment
 * any account of the server left unanswered by any account on the neighbour's server. Each
 * lock's first send starts a clock per pair that _locked_ or any of those stops. A transit
 * lock sent towards a neighbour that holds up `peer_held_up` payments, keeps `peer_waiting`
 * waiting or leaves `peer_slow_locks` locks unanswered (each with a second of slack) breaks
 * `held-up-limit`.
 *
 * @example
 * ```ts ignore
 * network.watchers.push(new HeldUpWatch({ limits, honest, life, violate }));
 * ```
 */
export class HeldUpWatch {
  #options: HeldUpWatchOptions;
  /**
   * The silence clocks, per pair of servers as the account judges silence (§8): `server
   * neighbour's server` → `account neighbour id` (accounts as `name@address`) → when its
   * clock started.
   */
  #asked = new Map<string, Map<string, number>>();
  /**
   * The clocks that only a word settling the payment stops (not waiting), per pair of
   * accounts: `account neighbour` → payment id → when it started.
   */
  #unsettled = new Map<string, Map<string, number>>();
  /** Locks not yet answered with locked: `account neighbour` → payment id → first sent. */
  #locking = new Map<string, Map<string, number>>();
  /** `account id`: a lock reached the account from upstream, so its lock down is transit. */
  #transit = new Set<string>();
  /** `account id`: its first lock down was judged (resends are not new decisions). */
  #judged = new Set<string>();
  /** The node each honest server ran when last seen. */
  #lives = new Map<string, object | null>();

  constructor(options: HeldUpWatchOptions) {
    this.#options = options;
  }

  /** A datagram left the server at `from` for the server at `to`, at simulated time `at`. */
  sent(from: string, to: string, datagram: DatagramFields, at: number): void {
    if (!this.#options.honest(from) || datagram.command < ServerCommand.Lock) return;
    this.#noticeRestart(from);
    const account = `${datagram.peerUsername}@${from}`;
    const neighbour = `${datagram.username}@${to}`;
    const args = datagram.arguments;
    const id = toHex(args.subarray(0, 32));
    switch (datagram.command) {
      case ServerCommand.Commit:
      case ServerCommand.Query: {
        for (const [map, outer, inner] of this.#clocks(account, neighbour, id)) {
          startClock(map, outer, inner, at);
        }
        return;
      }
      case ServerCommand.Abort:
        return this.#heard(account, neighbour, id);
      case ServerCommand.Release: {
        const { amount, released } = releasedArgs.decode(args);
        if (released >= amount) this.#heard(account, neighbour, id);
        return;
      }
      case ServerCommand.Lock: {
        this.#judgeLock(datagram.peerUsername, account, neighbour, id, at);
        return startClock(this.#locking, `${account} ${neighbour}`, id, at);
      }
    }
  }

  /** A datagram from the server at `from` reached the (running) server at `to`. */
  delivered(from: string, to: string, datagram: DatagramFields): void {
    if (!this.#options.honest(to) || datagram.command < ServerCommand.Lock) return;
    this.#noticeRestart(to);
    const account = `${datagram.username}@${to}`;
    const id = toHex(datagram.arguments.subarray(0, 32));
    if (datagram.command === ServerCommand.Lock) this.#transit.add(`${account} ${id}`);
    if (datagram.command === ServerCommand.Locked) {
      stopClock(this.#locking, `${account} ${datagram.peerUsername}@${from}`, id);
    }
    if (WORDS.has(datagram.command)) {
      const waiting = datagram.command === ServerCommand.Waiting;
      this.#heard(account, `${datagram.peerUsername}@${from}`, id, waiting);
    }
  }

  #judgeLock(username: string, account: string, neighbour: string, id: string, at: number) {
    const decision = `${account} ${id}`;
    if (!this.#transit.has(decision) || this.#judged.has(decision)) return;
    this.#judged.add(decision);
    const limits = peerLimitsFor(this.#options.limits, username, neighbour);
    const [[, servers], [, pair]] = this.#clocks(account, neighbour, id);
    const older = (payments: Map<string, number> | undefined, ms: number) => {
      let held = 0;
      for (const started of payments?.values() ?? []) if (started <= at - ms - SLACK_MS) held++;
      return held;
    };
    const silent = older(this.#asked.get(servers), this.#options.limits.heldUpAfterMs);
    const waiting = older(this.#unsettled.get(pair), this.#options.limits.waitingAfterMs);
    const slow = older(this.#locking.get(pair), this.#options.limits.slowLockAfterMs);
    const broken = [
      limits.peerHeldUp > 0 && silent >= limits.peerHeldUp && `held up ${silent}`,
      limits.peerWaiting > 0 && waiting >= limits.peerWaiting && `kept ${waiting} waiting`,
      limits.peerSlowLocks > 0 && slow >= limits.peerSlowLocks && `left ${slow} locks unanswered`,
    ].filter((problem) => problem !== false);
    for (const problem of broken) {
      this.#options.violate(
        "held-up-limit",
        `${account} passed payment ${id.slice(0, 12)} on to ${neighbour}, which ${problem}`,
      );
    }
  }

  /** A word about the payment: waiting stops only the silence clock, any other every clock. */
  #heard(account: string, neighbour: string, id: string, waiting = false): void {
    const [silence, unsettled] = this.#clocks(account, neighbour, id);
    for (const [map, outer, inner] of waiting ? [silence] : [silence, unsettled]) {
      stopClock(map, outer, inner);
    }
    if (!waiting) stopClock(this.#locking, `${account} ${neighbour}`, id);
  }

  /** Where a payment's two clocks live: the silence one per pair of servers, the other per pair. */
  #clocks(account: string, neighbour: string, id: string): Clock[] {
    const server = (ref: string) => ref.slice(ref.lastIndexOf("@") + 1);
    return [
      [this.#asked, `${server(account)} ${server(neighbour)}`, `${account} ${neighbour} ${id}`],
      [this.#unsettled, `${account} ${neighbour}`, id],
    ];
  }

  /** A server that restarted forgot every clock of its accounts; so does the watch. */
  #noticeRestart(address: string): void {
    const life = this.#options.life(address);
    if (this.#lives.get(address) === life) return;
    const known = this.#lives.has(address);
    this.#lives.set(address, life);
    if (!known) return;
    const first = (key: string) => key.slice(0, key.indexOf(" "));
    for (const key of this.#asked.keys()) if (first(key) === address) this.#asked.delete(key);
    for (const map of [this.#unsettled, this.#locking]) {
      for (const key of map.keys()) if (first(key).endsWith(`@${address}`)) map.delete(key);
    }
  }
}
