/** From a decoded datagram to a handler run: authenticate, check the counter, decode arguments, call the command. */

import { isReplay } from "../auth/counters.ts";
import type { Mac } from "../auth/hmac.ts";
import { parseKey } from "../auth/keys.ts";
import type {
  ClientCommandSpec,
  Feature,
  ServerCommandSpec,
  ServerContext,
} from "../core/context.ts";
import type { Logger } from "../core/log.ts";
import { accountPath, peerPath } from "../store/paths.ts";
import type { Store } from "../store/store.ts";
import { replayBody } from "../wire/arguments.ts";
import { ClientCommand, commandName, ServerCommand } from "../wire/commands.ts";
import { type Datagram, DatagramError, signedBytes } from "../wire/datagram.ts";
import { type AccountRef, formatAccountRef, printable } from "../wire/names.ts";
import { Status, type StatusCode, statusName } from "../wire/response.ts";
import type { Run } from "./run.ts";

/** The client commands that only read: a replay of one after a crash changes nothing. */
const READ_ONLY: ReadonlySet<number> = new Set([
  ClientCommand.GetTrustlineIn,
  ClientCommand.GetTrustlineOut,
  ClientCommand.GetPayment,
  ClientCommand.GetBalance,
  ClientCommand.ListPeers,
  ClientCommand.ListPayments,
  ClientCommand.ServerInfo,
  ClientCommand.GetLabel,
]);

/**
 * The server commands whose handlers keep only memory state (the search, the walk, the
 * labels): a run of one that changes nothing on disk but its incoming counter announces no
 * durable change, and a replay of it after a crash changes no books (docs/protocol.md §1).
 */
const MEMORY_ONLY: ReadonlySet<number> = new Set([
  ServerCommand.Search,
  ServerCommand.SearchReport,
  ServerCommand.SearchEnd,
  ServerCommand.Label,
  ServerCommand.Walk,
  ServerCommand.WalkReport,
]);

/** The outcome of handling one datagram, before it is made durable and answered. */
export interface Reply {
  /** The answer's status, for client commands. */
  status?: StatusCode;
  body?: Uint8Array;
  /** The key to sign the answer with; null gives a zero mac (the request was not authenticated). */
  key: Uint8Array | null;
  requestSignature?: Uint8Array;
  /** The run to commit; null when the datagram was refused before any state was read. */
  run: Run | null;
  /** The run changed nothing but its client counter and sends nothing: a read. */
  read?: boolean;
  /**
   * A search datagram (one of {@linkcode MEMORY_ONLY}) whose run changed nothing on disk but
   * its incoming counter: what it sends announces no durable change.
   */
  memoryOnly?: boolean;
  /** Set by the node once the run is committed. */
  durable: Promise<void>;
}

/** Makes the run for an authenticated datagram. */
export type RunFactory = (peer: AccountRef | null) => Run;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The command table and the checks every datagram passes before its handler. */
export class Dispatcher {
  #store: Store;
  #mac: Mac;
  #log: Logger;
  #client = new Map<number, ClientCommandSpec>();
  #server = new Map<number, ServerCommandSpec>();
  #heard: ((ctx: ServerContext) => void)[] = [];

  constructor(store: Store, mac: Mac, features: Feature[], log: Logger) {
    this.#store = store;
    this.#mac = mac;
    this.#log = log;
    for (const feature of features) {
      for (const [n, spec] of Object.entries(feature.clientCommands ?? {})) {
        this.#client.set(Number(n), spec);
      }
      for (const [n, spec] of Object.entries(feature.serverCommands ?? {})) {
        this.#server.set(Number(n), spec);
      }
      if (feature.heard) this.#heard.push(feature.heard);
    }
  }

  /** Whether some feature handles `command`. */
  knows(command: number): boolean {
    return this.#client.has(command) || this.#server.has(command);
  }

  /** Handles a client datagram under its account's lock. */
  async client(datagram: Datagram, newRun: RunFactory): Promise<Reply> {
    const log = this.#log.with({
      account: datagram.username,
      command: commandName(datagram.command),
    });
    const key = await this.#readKey(accountPath(datagram.username, "secretkey.txt"));
    if (key === null || !(await this.#verify(key, datagram))) {
      log.warn(key === null ? "unknown-account" : "bad-signature");
      return refuse(null, Status.Unauthorized, "unknown account or wrong signature");
    }
    const counterPath = accountPath(datagram.username, "counter.txt");
    const peer = datagram.peerUsername === ""
      ? null
      : { username: datagram.peerUsername, address: datagram.peerAddress };
    const run = newRun(peer);
    const last = await run.tx.getNumber(counterPath);
    if (isReplay(datagram.counter, last)) {
      log.warn("replay", { counter: datagram.counter, last });
      const body = replayBody.encode({ counter: last });
      return { ...refuse(key, Status.Replay), body, requestSignature: datagram.signature };
    }
    const reply = (status: StatusCode, body: Uint8Array, committed: Run | null): Reply => ({
      status,
      body,
      key,
      requestSignature: datagram.signature,
      run: committed,
      durable: Promise.resolve(),
    });
    const spec = this.#client.get(datagram.command)!;
    const peerProblem = await this.#checkPeer(spec, datagram.username, peer);
    if (peerProblem) {
      log.warn("client-refused", { reason: peerProblem.message });
      return reply(peerProblem.status, encoder.encode(peerProblem.message), null);
    }
    let args;
    try {
      args = spec.args.decode(datagram.arguments);
    } catch (error) {
      if (!(error instanceof DatagramError)) throw error;
      log.warn("client-malformed", { reason: error.message });
      return reply(Status.Malformed, encoder.encode(error.message), null);
    }
    // Only a datagram that reaches its handler uses up its counter; a refusal changes nothing.
    run.tx.setNumber(counterPath, datagram.counter);
    const answer = await spec.handle(run, args);
    if (answer.status !== Status.Ok) {
      const reason = printable(decoder.decode(answer.body ?? new Uint8Array()), 200);
      log.info("client-refused", {
        status: statusName(answer.status),
        reason: reason || undefined,
      });
    }
    // Only a command that never changes anything may have its counter acknowledged before it
    // is durable (docs/protocol.md §1): a write its handler refused would, replayed after a
    // crash, meet a state in which it succeeds.
    const read = READ_ONLY.has(datagram.command) && run.tx.changes.size === 1 &&
      run.outbound.length === 0 && run.wakes.length === 0;
    return { ...reply(answer.status, answer.body ?? new Uint8Array(), run), read };
  }

  /** Handles a server datagram under its account's lock; nothing is ever answered. */
  async server(datagram: Datagram, newRun: RunFactory): Promise<Reply> {
    const peer = { username: datagram.peerUsername, address: datagram.peerAddress };
    const log = this.#log.with({
      account: datagram.username,
      peer: formatAccountRef(peer),
      command: commandName(datagram.command),
    });
    const key = await this.#readKey(peerPath(datagram.username, peer, "secretkey.txt"));
    if (key === null || !(await this.#verify(key, datagram))) {
      log.warn(key === null ? "unknown-peer" : "bad-signature");
      return refuse(null);
    }
    const run = newRun(peer);
    const counterPath = peerPath(datagram.username, peer, "counter_in.txt");
    const last = await run.tx.getNumber(counterPath);
    if (isReplay(datagram.counter, last)) {
      log.debug("replay", { counter: datagram.counter, last });
      return refuse(null);
    }
    const spec = this.#server.get(datagram.command)!;
    let args;
    try {
      args = spec.args.decode(datagram.arguments);
    } catch (error) {
      if (!(error instanceof DatagramError)) throw error;
      log.warn("server-malformed", { reason: error.message });
      return refuse(null);
    }
    run.tx.setNumber(counterPath, datagram.counter);
    for (const heard of this.#heard) heard(run);
    await spec.handle(run, args);
    const memoryOnly = MEMORY_ONLY.has(datagram.command) && run.tx.changes.size === 1;
    return { key: null, run, memoryOnly, durable: Promise.resolve() };
  }

  async #readKey(path: string): Promise<Uint8Array | null> {
    const text = await this.#store.read(path);
    return text === undefined ? null : parseKey(text);
  }

  #verify(key: Uint8Array, datagram: Datagram): Promise<boolean> {
    return this.#mac.verify(key, datagram.signature, signedBytes(datagram.bytes));
  }

  async #checkPeer(
    spec: ClientCommandSpec,
    username: string,
    peer: AccountRef | null,
  ): Promise<{ status: StatusCode; message: string } | null> {
    if (spec.peer === "none") {
      return peer === null
        ? null
        : { status: Status.Malformed, message: "this command names no peer" };
    }
    if (peer === null) return { status: Status.Malformed, message: "this command needs a peer" };
    if (
      spec.peer === "known" &&
      (await this.#store.read(peerPath(username, peer, "secretkey.txt"))) === undefined
    ) {
      return {
        status: Status.UnknownPeer,
        message: `${formatAccountRef(peer)} is not a peer of ${username}`,
      };
    }
    return null;
  }
}

function refuse(key: Uint8Array | null, status?: StatusCode, message?: string): Reply {
  return {
    status,
    body: message === undefined ? undefined : encoder.encode(message),
    key,
    run: null,
    durable: Promise.resolve(),
  };
}
