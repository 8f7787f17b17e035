/** One handler run: the context a feature sees, collecting what the run wants sent and when to wake. */

import type { ClientContext, ServerContext } from "../core/context.ts";
import type { DeferredLog, Logger } from "../core/log.ts";
import type { Tx } from "../store/tx.ts";
import type { AccountRef } from "../wire/names.ts";
import type { Outbound } from "./sender.ts";

/**
 * The context of one run; the node commits `tx`, then sends `outbound` and schedules
 * `wakes`. What the handlers log is written once the run is durable, and dropped if it
 * never is: the log tells only of what happened.
 */
export class Run implements ClientContext, ServerContext {
  readonly outbound: Outbound[] = [];
  readonly wakes: number[] = [];
  readonly username: string;
  readonly now: number;
  readonly tx: Tx;
  readonly log: Logger;
  readonly #peer: AccountRef | null;
  readonly #lines: DeferredLog;

  constructor(username: string, now: number, tx: Tx, log: Logger, peer: AccountRef | null) {
    this.username = username;
    this.now = now;
    this.tx = tx;
    this.#lines = log.deferred();
    this.log = this.#lines.logger;
    this.#peer = peer;
  }

  /** The run is durable: its log lines are written. */
  done(): void {
    this.#lines.flush();
  }

  /** The run was not made durable: it did not happen, and its log lines go. */
  undone(): void {
    this.#lines.discard();
  }

  /** The peer of the datagram; server handlers always have one (the sender). */
  get peer(): AccountRef {
    return this.#peer!;
  }

  send(to: AccountRef, command: number, args: Uint8Array): void {
    this.outbound.push({ to, command, args });
  }

  wakeAt(at: number): void {
    this.wakes.push(at);
  }
}
