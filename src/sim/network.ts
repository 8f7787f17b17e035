/** The simulated network: one-way server datagrams and client exchanges, with faults and their counts. */

import { toHex } from "../auth/keys.ts";
import { ServerCommand } from "../wire/commands.ts";
import { type DatagramFields, decodeDatagram } from "../wire/datagram.ts";
import type { SimClock } from "./clock.ts";
import type { Random } from "./random.ts";
import type { SimServer } from "./world.ts";

/** How often each fault happens; all zero is a perfect network that never crashes. */
export interface Faults {
  /** Chance that a server datagram is lost. */
  loss: number;
  /** Chance that a server datagram is delivered twice. */
  duplicate: number;
  /** Chance that the sender is told "delivered" at once, so the next datagram may overtake it. */
  reorder: number;
  /** One-way delay of every datagram and client exchange, in ms, uniform in [min, max]. */
  delayMs: [number, number];
  /** Mean simulated time between two server crashes (0: never). */
  crashEveryMs: number;
  /** How long a crashed server stays down, ms, uniform in [min, max]. */
  downMs: [number, number];
  /** Chance that a crash tears the unsynced tail of a file instead of dropping it. */
  torn: number;
}

/** No faults at all. */
export const NO_FAULTS: Faults = {
  loss: 0,
  duplicate: 0,
  reorder: 0,
  delayMs: [1, 5],
  crashEveryMs: 0,
  downMs: [100, 2_000],
  torn: 0,
};

/** What the network did, for reports. */
export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
  refused: number;
  crashes: number;
}

/** Datagrams sent for one payment id: its search, and its three steps. */
export interface PaymentTraffic {
  search: number;
  payment: number;
  /** The buyer's flood probes (server 132, front 0): the walk needed the fallback. */
  flood: number;
  /** Walks and walk reports (server 151, 152). */
  walk: number;
  /** The seller's flood probes (server 132, front 1). */
  sellerFlood: number;
  /** The deepest round of the seller's flood probes sent (0 if none). */
  sellerRound: number;
}

const CLIENT_TIMEOUT_MS = 10_000;
/** The datagrams that count as a payment's search: probes, reports, ends, walks. */
const SEARCH_COMMANDS = new Set<number>([
  ServerCommand.Search,
  ServerCommand.SearchReport,
  ServerCommand.SearchEnd,
  ServerCommand.Walk,
  ServerCommand.WalkReport,
]);

/** Told of every server datagram as it leaves a server and as it reaches a running one. */
export interface DatagramWatcher {
  sent(from: string, to: string, datagram: DatagramFields, at: number): void;
  delivered(from: string, to: string, datagram: DatagramFields): void;
}

/** What the network needs of the world around it. */
export interface NetworkOptions {
  clock: SimClock;
  random: Random;
  faults: Faults;
  servers: ReadonlyMap<string, SimServer>;
  /** Servers whose traffic an attacker writes: their counters are not checked. */
  hostile: ReadonlyMap<string, unknown>;
  violate: (invariant: string, detail: string) => void;
}

/**
 * Delivers datagrams between the world's servers after a random delay, losing, doubling
 * and reordering them at the rates of its faults. It checks every datagram that leaves a
 * server: counters must rise, per sending account and peer.
 */
export class SimNetwork {
  faults: Faults;
  readonly stats: NetworkStats = {
    sent: 0,
    delivered: 0,
    lost: 0,
    duplicated: 0,
    refused: 0,
    crashes: 0,
  };
  /** Server datagrams sent per payment id (hex), by kind. */
  readonly traffic = new Map<string, PaymentTraffic>();
  /** Routing-label datagrams (server 150) sent so far. */
  labelDatagrams = 0;
  /** Observers of the traffic, for invariants judged from the wire. */
  readonly watchers: DatagramWatcher[] = [];
  #clock: SimClock;
  #random: Random;
  #servers: ReadonlyMap<string, SimServer>;
  #hostile: ReadonlyMap<string, unknown>;
  #violate: (invariant: string, detail: string) => void;
  /** Highest counter each sending account used towards each peer. */
  #counters = new Map<string, number>();

  constructor(options: NetworkOptions) {
    this.faults = options.faults;
    this.#clock = options.clock;
    this.#random = options.random;
    this.#servers = options.servers;
    this.#hostile = options.hostile;
    this.#violate = options.violate;
  }

  /** Sends one server datagram from the server at `from`, as a transport would. */
  send(from: string, to: string, bytes: Uint8Array): Promise<void> {
    this.stats.sent++;
    const datagram = decodeDatagram(bytes);
    this.#checkCounter(from, to, datagram);
    for (const watcher of this.watchers) watcher.sent(from, to, datagram, this.#clock.now());
    const copy = bytes.slice();
    const delay = this.delay();
    if (this.#random.chance(this.faults.loss)) {
      this.stats.lost++;
      return this.#after(delay, () => Promise.reject(new Error(`lost on the way to ${to}`)));
    }
    if (this.#random.chance(this.faults.duplicate)) {
      this.stats.duplicated++;
      this.#clock.setTimer(delay + this.delay() * 4, () => this.#deliver(from, to, copy));
    }
    if (this.#random.chance(this.faults.reorder)) {
      this.#clock.setTimer(delay + this.delay() * 4, () => this.#deliver(from, to, copy));
      return Promise.resolve();
    }
    return this.#after(delay, () => {
      if (!this.#deliver(from, to, copy)) return Promise.reject(new Error(`cannot reach ${to}`));
      return Promise.resolve();
    });
  }

  /** Hands a datagram to the server at `to`; false if it is down (or unknown). */
  #deliver(from: string, to: string, bytes: Uint8Array): boolean {
    const node = this.#servers.get(to)?.node;
    if (node === null || node === undefined) {
      this.stats.refused++;
      return false;
    }
    this.stats.delivered++;
    if (this.watchers.length > 0) {
      const datagram = decodeDatagram(bytes);
      for (const watcher of this.watchers) watcher.delivered(from, to, datagram);
    }
    node.receive(bytes).catch(() => {});
    return true;
  }

  /** One client exchange with the server at `address`: request there, answer back. */
  exchange(address: string, request: Uint8Array): Promise<Uint8Array> {
    const server = this.#servers.get(address);
    return new Promise((resolve, reject) => {
      if (server?.node == null) {
        this.#clock.setTimer(this.delay(), () => reject(new Error(`${address} is down`)));
        return;
      }
      const fail = (error: Error) => {
        timeout.cancel();
        server.exchanges.delete(fail);
        reject(error);
      };
      server.exchanges.add(fail);
      const timeout = this.#clock.setTimer(CLIENT_TIMEOUT_MS, () => fail(new Error("timed out")));
      this.#clock.setTimer(this.delay(), () => {
        const node = server.node;
        if (node === null) return fail(new Error(`${address} is down`));
        node.receive(request).then((answer) => {
          if (!server.exchanges.has(fail)) return;
          this.#clock.setTimer(this.delay(), () => {
            if (!server.exchanges.has(fail)) return;
            timeout.cancel();
            server.exchanges.delete(fail);
            if (answer === null) reject(new Error("no answer to a client command"));
            else resolve(answer);
          });
        }, (error) => fail(error instanceof Error ? error : new Error(String(error))));
      });
    });
  }

  /**
   * An honest server's outgoing counters to one peer must rise with every datagram it
   * sends; and the traffic of each payment is counted.
   */
  #checkCounter(from: string, to: string, datagram: DatagramFields): void {
    const { command, username, peerUsername, counter, arguments: args } = datagram;
    if (command === ServerCommand.Label) this.labelDatagrams++;
    else if (command >= ServerCommand.Search) {
      const id = toHex(args.subarray(0, 32));
      const traffic = this.traffic.get(id) ??
        { search: 0, payment: 0, flood: 0, walk: 0, sellerFlood: 0, sellerRound: 0 };
      if (SEARCH_COMMANDS.has(command)) traffic.search++;
      else traffic.payment++;
      if (command === ServerCommand.Walk || command === ServerCommand.WalkReport) traffic.walk++;
      // Byte 40 of a probe is its front (0 the buyer's, the walk's fallback), 41 its round.
      if (command === ServerCommand.Search && args[40] === 0) traffic.flood++;
      if (command === ServerCommand.Search && args[40] === 1) {
        traffic.sellerFlood++;
        traffic.sellerRound = Math.max(traffic.sellerRound, args[41]);
      }
      this.traffic.set(id, traffic);
    }
    if (this.#hostile.has(from)) return;
    const key = `${peerUsername}@${from} ${username}@${to}`;
    const last = this.#counters.get(key) ?? 0;
    if (counter <= last) {
      this.#violate("counter-reused", `${key} sent counter ${counter} after ${last}`);
    }
    this.#counters.set(key, Math.max(counter, last));
  }

  /** A one-way delay drawn from the faults' range. */
  delay(): number {
    const [min, max] = this.faults.delayMs;
    return this.#random.between(min, max);
  }

  #after<T>(delayMs: number, then: () => Promise<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      this.#clock.setTimer(delayMs, () => then().then(resolve, reject));
    });
  }
}
