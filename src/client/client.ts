/**
 * The client library: signs a datagram, exchanges it with the account's server, checks the
 * answer. It uses no Deno API, so the web wallet runs this same code in the browser; the
 * TCP exchange is in `tcp_exchange.ts`.
 */

import { hmacSign, hmacVerify, type Mac, WebCryptoMac } from "../auth/hmac.ts";
import { replayBody } from "../wire/arguments.ts";
import { encodeDatagram, SIGNATURE_SIZE, signedBytes } from "../wire/datagram.ts";
import type { AccountRef } from "../wire/names.ts";
import {
  decodeResponse,
  type Response,
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
  /**
   * The account's client key: its bytes, or a WebCrypto HMAC key (the web wallet keeps a
   * non-extractable one, so the bytes never reach its script).
   */
  key: Uint8Array | CryptoKey;
  counters: CounterStore;
  /** Signs with a key given as bytes; WebCrypto by default, deterministic in the simulator. */
  mac?: Mac;
  /** The network: {@linkcode tcpExchange}, HTTP in the browser, the simulator's fake network. */
  exchange: Exchange;
  /**
   * Runs each exchange, from taking its counter to reading its answer, alone among the
   * clients that share the counter store, so their counters reach the server in order (the
   * web wallet's tabs hold a Web Lock). By default exchanges are not serialized: a counter
   * overtaken by another is answered `replay`, and the request is sent once more.
   */
  exclusive?: <T>(exchange: () => Promise<T>) => Promise<T>;
}

/** The server answered something other than ok; `status` says what, `message` the server's words. */
export class ClientError extends Error {
  override name = "ClientError";
  readonly status: number;
  /** The server's own words, without the status name; may be empty. */
  readonly detail: string;
  constructor(status: number, message: string) {
    super(message === "" ? statusName(status) : `${statusName(status)}: ${message}`);
    this.status = status;
    this.detail = message;
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
 * const exchange = tcpExchange(10_000);
 * const client = new Client({ server: "127.0.0.2", account: "alice", key, counters, exchange });
 * const answer = await client.request(ClientCommand.GetTrustlineOut, bob, noArgs.encode({}));
 * ```
 */
export class Client {
  #options: ClientOptions;
  #sign: (data: Uint8Array) => Promise<Uint8Array>;
  #verify: (signature: Uint8Array, data: Uint8Array) => Promise<boolean>;

  constructor(options: ClientOptions) {
    this.#options = options;
    const key = options.key;
    if (key instanceof Uint8Array) {
      const mac = options.mac ?? new WebCryptoMac();
      this.#sign = (data) => mac.sign(key, data);
      this.#verify = (signature, data) => mac.verify(key, signature, data);
    } else {
      this.#sign = (data) => hmacSign(key, data);
      this.#verify = (signature, data) => hmacVerify(key, signature, data);
    }
  }

  /** Sends one command and returns the answer, whatever its status. */
  async request(command: number, peer: AccountRef | null, args: Uint8Array): Promise<Answer> {
    const once = () => this.#once(command, peer, args);
    const exclusive = this.#options.exclusive ?? ((exchange) => exchange());
    const answer = await exclusive(once);
    if (answer.status !== Status.Replay || !answer.authenticated) return answer;
    await this.#options.counters.recover(replayBody.decode(answer.body).counter);
    return await exclusive(once);
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
    const signature = await this.#sign(signedBytes(unsigned));
    const response = decodeResponse(
      await this.#options.exchange(this.#options.server, encodeDatagram(fields, signature)),
    );
    if (isZero(response.mac)) {
      if (response.status === Status.Ok) {
        throw new AuthenticationError("an ok answer without a mac");
      }
      return { ...response, authenticated: false };
    }
    const input = responseMacInput(signature, response.status, response.body);
    if (!(await this.#verify(response.mac, input))) {
      throw new AuthenticationError("the answer's mac does not match this request and key");
    }
    return { ...response, authenticated: true };
  }
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((byte, i) => byte === ZERO_MAC[i]);
}
