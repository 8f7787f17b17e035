/** The client library: signs a datagram, exchanges it with the account's server, checks the answer. */

import { type Mac, WebCryptoMac } from "../auth/hmac.ts";
import { Deadline, readUpTo, writeAll } from "../core/deadline.ts";
import { replayBody } from "../wire/arguments.ts";
import { encodeDatagram, SIGNATURE_SIZE, signedBytes } from "../wire/datagram.ts";
import { type AccountRef, parseServerAddress } from "../wire/names.ts";
import {
  decodeResponse,
  type Response,
  responseLength,
  responseMacInput,
  Status,
  statusName,
} from "../wire/response.ts";
import type { CounterStore } from "./counter_store.ts";

/** Sends request bytes to a server address and returns the whole response. */
export type Exchange = (address: string, request: Uint8Array) => Promise<Uint8Array>;

/** How a {@linkcode Client} reaches its server. */
export interface ClientOptions {
  /** The server's address, `host` or `host:port`. */
  server: string;
  account: string;
  key: Uint8Array;
  counters: CounterStore;
  mac?: Mac;
  /** The network; TCP by default, the simulator's fake network in simulations. */
  exchange?: Exchange;
  timeoutMs?: number;
}

/** The server answered something other than ok; `status` says what, `message` the server's words. */
export class ClientError extends Error {
  override name = "ClientError";
  readonly status: number;
  constructor(status: number, message: string) {
    super(message === "" ? statusName(status) : `${statusName(status)}: ${message}`);
    this.status = status;
  }
}

/** The answer could not be trusted: it was not signed with the account's key for this request. */
export class AuthenticationError extends Error {
  override name = "AuthenticationError";
}

/** An authenticated (or, for refusals before authentication, zero-mac) answer. */
export interface Answer extends Response {
  /** False when the server could not authenticate the request and sent a zero mac. */
  authenticated: boolean;
}

const ZERO_MAC = new Uint8Array(SIGNATURE_SIZE);
const decoder = new TextDecoder();

/**
 * Talks to one account's server. Each request takes the next counter from the counter
 * store; when the server answers `replay`, the client moves its counter past the one the
 * server reports (the answer is signed, so it can be trusted) and tries once more.
 *
 * @example
 * ```ts ignore
 * const client = new Client({ server: "127.0.0.2", account: "alice", key, counters });
 * const answer = await client.request(ClientCommand.GetTrustlineOut, bob, noArgs.encode({}));
 * ```
 */
export class Client {
  #options: ClientOptions;
  #mac: Mac;
  #exchange: Exchange;

  constructor(options: ClientOptions) {
    this.#options = options;
    this.#mac = options.mac ?? new WebCryptoMac();
    this.#exchange = options.exchange ?? tcpExchange(options.timeoutMs ?? 10_000);
  }

  /** Sends one command and returns the answer, whatever its status. */
  async request(command: number, peer: AccountRef | null, args: Uint8Array): Promise<Answer> {
    const answer = await this.#once(command, peer, args);
    if (answer.status !== Status.Replay || !answer.authenticated) return answer;
    await this.#options.counters.recover(replayBody.decode(answer.body).counter);
    return await this.#once(command, peer, args);
  }

  /** Sends one command and returns the body of an ok answer; throws {@linkcode ClientError} otherwise. */
  async call(command: number, peer: AccountRef | null, args: Uint8Array): Promise<Uint8Array> {
    const answer = await this.request(command, peer, args);
    if (answer.status !== Status.Ok) {
      throw new ClientError(answer.status, decoder.decode(answer.body));
    }
    return answer.body;
  }

  async #once(command: number, peer: AccountRef | null, args: Uint8Array): Promise<Answer> {
    const fields = {
      command,
      username: this.#options.account,
      peerUsername: peer?.username ?? "",
      peerAddress: peer?.address ?? "",
      arguments: args,
      counter: await this.#options.counters.next(),
    };
    const unsigned = encodeDatagram(fields, ZERO_MAC);
    const signature = await this.#mac.sign(this.#options.key, signedBytes(unsigned));
    const response = decodeResponse(
      await this.#exchange(this.#options.server, encodeDatagram(fields, signature)),
    );
    if (isZero(response.mac)) {
      if (response.status === Status.Ok) {
        throw new AuthenticationError("an ok answer without a mac");
      }
      return { ...response, authenticated: false };
    }
    const input = responseMacInput(signature, response.status, response.body);
    if (!(await this.#mac.verify(this.#options.key, response.mac, input))) {
      throw new AuthenticationError("the answer's mac does not match this request and key");
    }
    return { ...response, authenticated: true };
  }
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((byte, i) => byte === ZERO_MAC[i]);
}

/**
 * The TCP exchange: connect, write the datagram, read the whole answer, all within
 * `timeoutMs`.
 */
export function tcpExchange(timeoutMs: number): Exchange {
  return async (address, request) => {
    const { host, port } = parseServerAddress(address);
    using deadline = new Deadline(timeoutMs);
    using conn = await Deno.connect({ hostname: host, port, signal: deadline.signal });
    await writeAll(conn, request, deadline.signal);
    const header = await readUpTo(conn, 3, deadline.signal);
    if (header.length < 3) {
      throw new Deno.errors.UnexpectedEof("the server closed without an answer");
    }
    const rest = await readUpTo(conn, responseLength(header) - 3, deadline.signal);
    const response = new Uint8Array(header.length + rest.length);
    response.set(header);
    response.set(rest, header.length);
    return response;
  };
}
