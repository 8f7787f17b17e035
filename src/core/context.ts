/** What the server hands a command handler, and what a feature (trustlines, paths, payments) gives the server. */

import type { Tx } from "../store/tx.ts";
import type { Layout, Values } from "../wire/layout.ts";
import type { AccountRef } from "../wire/names.ts";
import type { StatusCode } from "../wire/response.ts";
import type { Logger } from "./log.ts";

/** One handler run for one account, under that account's lock. */
export interface Context {
  /** The local account the datagram or timer is for. */
  readonly username: string;
  /** Milliseconds since the epoch, from the server's clock. */
  readonly now: number;
  /** This run's change set; committed atomically when the handler returns. */
  readonly tx: Tx;
  readonly log: Logger;
  /** Queues a server datagram from this account; it is sent once the change set is durable. */
  send(to: AccountRef, command: number, args: Uint8Array): void;
  /** Asks for a timer run of this account's features at `at` (ms since the epoch) or later. */
  wakeAt(at: number): void;
}

/** A client command's context. */
export interface ClientContext extends Context {
  /** The peer the datagram names; not set for commands whose peer requirement is `none`. */
  readonly peer: AccountRef;
}

/** A server command's context: the sending peer, already authenticated. */
export interface ServerContext extends Context {
  readonly peer: AccountRef;
}

/** The answer a client handler gives; the dispatcher signs it. */
export interface Answer {
  status: StatusCode;
  body?: Uint8Array;
}

/**
 * What a client command expects in its peer fields: `known` requires a peer the account
 * has a key for (else `unknown peer`), `any` requires some account, `none` requires zeros.
 */
export type PeerRequirement = "known" | "any" | "none";

// deno-lint-ignore no-explicit-any
type AnyLayout = Layout<any>;

/** A client command: its argument layout, its peer requirement and its handler. */
export interface ClientCommandSpec<L extends AnyLayout = AnyLayout> {
  args: L;
  peer: PeerRequirement;
  /** Read-only commands are still counted, but can say so for logs and metrics. */
  handle(ctx: ClientContext, args: L extends Layout<infer F> ? Values<F> : never): Promise<Answer>;
}

/** A server command: its argument layout and its handler. */
export interface ServerCommandSpec<L extends AnyLayout = AnyLayout> {
  args: L;
  handle(ctx: ServerContext, args: L extends Layout<infer F> ? Values<F> : never): Promise<void>;
}

/** A part of the protocol: the commands it handles and what it does when its timers fire. */
export interface Feature {
  readonly clientCommands?: Readonly<Record<number, ClientCommandSpec>>;
  readonly serverCommands?: Readonly<Record<number, ServerCommandSpec>>;
  /**
   * Resends, expiries and queries for one account. Each run recomputes from the stored
   * state everything still to do and asks for its next run with `wakeAt`; an account
   * whose features ask for nothing has no work left.
   */
  wake?(ctx: Context): Promise<void>;
  /**
   * Server commands whose receiver keeps only what the highest counter says (a trustline and
   * its confirmation): a datagram still waiting to be sent is dropped when a newer one of
   * the same command is queued to the same peer, which makes it obsolete.
   */
  readonly superseding?: ReadonlySet<number>;
  /**
   * A server datagram from `ctx.peer` passed its checks and goes to its handler next: a peer
   * added while the server runs is first met so. Memory only: no reads, no writes.
   */
  heard?(ctx: ServerContext): void;
  /** Server commands whose delivery to the peer's server this feature wants to record. */
  readonly deliveries?: ReadonlySet<number>;
  /**
   * One of {@linkcode Feature.deliveries} was taken by the peer's server: `to` is the peer,
   * `args` what was sent. Runs under the account's lock, in a change set of its own.
   */
  delivered?(ctx: Context, to: AccountRef, command: number, args: Uint8Array): Promise<void>;
}

/** Declares a client command with its argument types inferred from the layout. */
export function clientCommand<L extends AnyLayout>(spec: ClientCommandSpec<L>): ClientCommandSpec {
  return spec as unknown as ClientCommandSpec;
}

/** Declares a server command with its argument types inferred from the layout. */
export function serverCommand<L extends AnyLayout>(spec: ServerCommandSpec<L>): ServerCommandSpec {
  return spec as unknown as ServerCommandSpec;
}
