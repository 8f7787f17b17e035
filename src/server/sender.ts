/** The outbound side: per peer pair, datagrams are numbered, signed and sent one after another. */

import { type OutgoingCounter, takeCounter } from "../auth/counters.ts";
import type { Mac } from "../auth/hmac.ts";
import { parseKey } from "../auth/keys.ts";
import type { Logger } from "../core/log.ts";
import { peerPath } from "../store/paths.ts";
import type { Store } from "../store/store.ts";
import { Tx } from "../store/tx.ts";
import { commandName } from "../wire/commands.ts";
import { encodeDatagram, SIGNATURE_SIZE, signedBytes } from "../wire/datagram.ts";
import { type AccountRef, formatAccountRef } from "../wire/names.ts";
import type { Transport } from "./transport.ts";

/** A server datagram waiting to be numbered and signed. */
export interface Outbound {
  to: AccountRef;
  command: number;
  args: Uint8Array;
}

/** Collaborators of a {@linkcode Sender}. */
export interface SenderOptions {
  store: Store;
  transport: Transport;
  mac: Mac;
  /** This server's own canonical address, written into every datagram as the sender's. */
  address: string;
  logger: Logger;
  /** Datagrams waiting per peer pair; beyond it new ones are dropped. */
  maxQueue: number;
  /** Called once the peer's server has taken a datagram (not when it failed to). */
  onDelivered?: (from: string, message: Outbound) => void;
  /**
   * Commands of which only the newest datagram to a peer matters (its receiver keeps only
   * the highest counter): a new one removes the one still waiting in its lane.
   */
  superseding?: ReadonlySet<number>;
}

interface Lane {
  from: string;
  to: AccountRef;
  queue: Outbound[];
  running: Promise<void> | null;
}

/**
 * Sends server datagrams. Each pair (local account, peer) has a lane: datagrams leave in
 * the order they were queued, each with the next counter, and the next one is not sent
 * before the last was taken by the peer's server. Nothing here is retried: what must
 * arrive is resent by the feature that owns it until the peer's answer shows it did.
 */
export class Sender {
  #options: SenderOptions;
  #lanes = new Map<string, Lane>();
  #counters = new Map<string, OutgoingCounter>();
  #closed = false;
  /** When each queued datagram was queued, for the debug log. */
  #queuedAt = new WeakMap<Outbound, number>();

  constructor(options: SenderOptions) {
    this.#options = options;
  }

  /** Queues a datagram from local account `from`. */
  send(from: string, message: Outbound): void {
    if (this.#closed) return;
    const key = `${from} ${formatAccountRef(message.to)}`;
    let lane = this.#lanes.get(key);
    if (lane === undefined) {
      lane = { from, to: message.to, queue: [], running: null };
      this.#lanes.set(key, lane);
    }
    if (lane.queue.some((queued) => sameMessage(queued, message))) return;
    if (this.#options.superseding?.has(message.command)) {
      // Removed, not replaced in place: the others keep their order relative to the new one.
      const older = lane.queue.findIndex((queued) => queued.command === message.command);
      if (older !== -1) lane.queue.splice(older, 1);
    }
    if (lane.queue.length >= this.#options.maxQueue) {
      this.#options.logger.warn("outbox-full", {
        account: from,
        peer: formatAccountRef(message.to),
      });
      return;
    }
    lane.queue.push(message);
    this.#queuedAt.set(message, performance.now());
    lane.running ??= this.#drain(key, lane);
  }

  /** Datagrams queued and not yet sent. */
  get queued(): number {
    let count = 0;
    for (const lane of this.#lanes.values()) count += lane.queue.length;
    return count;
  }

  /** Stops taking datagrams and waits for the ones being sent. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const lane of this.#lanes.values()) lane.queue.length = 0;
    await Promise.all([...this.#lanes.values()].map((lane) => lane.running));
  }

  async #drain(key: string, lane: Lane): Promise<void> {
    const log = this.#options.logger;
    while (lane.queue.length > 0 && !this.#closed) {
      const message = lane.queue.shift()!;
      const fields = () => ({
        account: lane.from,
        peer: formatAccountRef(lane.to),
        command: commandName(message.command),
      });
      try {
        const taken = performance.now();
        const bytes = await this.#seal(lane.from, message);
        if (bytes === null) {
          log.warn("send-skipped-unknown-peer", fields);
          continue;
        }
        const sealed = performance.now();
        await this.#options.transport.send(message.to.address, bytes);
        const queued = this.#queuedAt.get(message) ?? taken;
        log.debug("sent", () => ({
          ...fields(),
          laneMs: ms(taken - queued),
          sealMs: ms(sealed - taken),
          sendMs: ms(performance.now() - sealed),
        }));
        this.#options.onDelivered?.(lane.from, message);
      } catch (error) {
        log.info("send-failed", () => ({
          ...fields(),
          error: error instanceof Error ? error.message : String(error),
        }));
      }
    }
    lane.running = null;
    if (lane.queue.length === 0 && this.#lanes.get(key) === lane) this.#lanes.delete(key);
  }

  async #seal(from: string, message: Outbound): Promise<Uint8Array | null> {
    const keyText = await this.#options.store.read(peerPath(from, message.to, "secretkey.txt"));
    if (keyText === undefined) return null;
    const key = parseKey(keyText);
    const fields = {
      command: message.command,
      username: message.to.username,
      peerUsername: from,
      peerAddress: this.#options.address,
      arguments: message.args,
      counter: await this.#nextCounter(from, message.to),
    };
    const unsigned = encodeDatagram(fields, new Uint8Array(SIGNATURE_SIZE));
    return encodeDatagram(fields, await this.#options.mac.sign(key, signedBytes(unsigned)));
  }

  async #nextCounter(from: string, to: AccountRef): Promise<number> {
    const path = peerPath(from, to, "counter_out.txt");
    let state = this.#counters.get(path);
    if (state === undefined) {
      const ceiling = await new Tx(this.#options.store).getNumber(path);
      state = this.#counters.get(path) ?? { next: ceiling + 1, ceiling };
      this.#counters.set(path, state);
    }
    const { counter, reserve } = takeCounter(state);
    if (reserve === undefined) return counter;
    try {
      await this.#options.store.commit(new Map([[path, `${reserve}\n`]]));
    } catch (error) {
      // The ceiling is not durable (a full disk refused it): start again from the stored one.
      this.#counters.delete(path);
      throw error;
    }
    return counter;
  }
}

/** A duration in milliseconds, to a hundredth, for the debug log. */
function ms(duration: number): number {
  return Math.round(duration * 100) / 100;
}

function sameMessage(a: Outbound, b: Outbound): boolean {
  if (a.command !== b.command || a.args.length !== b.args.length) return false;
  for (let i = 0; i < a.args.length; i++) if (a.args[i] !== b.args[i]) return false;
  return true;
}
