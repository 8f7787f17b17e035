/** One handler run: the context a feature sees, collecting what the run wants sent and when to wake. */

import type { ClientContext, ServerContext } from "../core/context.ts";
import type { Logger } from "../core/log.ts";
import type { Tx } from "../store/tx.ts";
import type { AccountRef } from "../wire/names.ts";
import type { Outbound } from "./sender.ts";

/** The context of one run; the node commits `tx`, then sends `outbound` and schedules `wakes`. */
export class Run implements ClientContext, ServerContext {
  readonly outbound: Outbound[] = [];
  readonly wakes: number[] = [];
  readonly username: string;
  readonly now: number;
  readonly tx: Tx;
  readonly log: Logger;
  readonly #peer: AccountRef | null;

  constructor(username: string, now: number, tx: Tx, log: Logger, peer: AccountRef | null) {
    this.username = username;
    this.now = now;
    this.tx = tx;
    this.log = log;
    this.#peer = peer;
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
