/**
 * The HTTP side of a server: the web wallet's files, and `POST /datagram`, which hands a
 * client datagram to the same {@linkcode Node} as the TCP listener and answers its bytes.
 */

import type { Logger } from "../core/log.ts";
import { ThrottledLog } from "../core/throttled_log.ts";
import { ConnectionSlots } from "../server/connection_slots.ts";
import type { Node } from "../server/node.ts";
import { printable } from "../wire/names.ts";
import { type Asset, fileAnswer, loadAssets } from "./assets.ts";
import { DATAGRAM_PATH, datagramEndpoint } from "./datagram_endpoint.ts";
import { answer, type Refusal } from "./headers.ts";

/** What the page learns from `GET /server.json`: public facts about this server. */
export interface WalletInfo {
  /** The server's public address: the accounts' `name@address`. */
  address: string;
  /** How long a seller's search waits for the buyer, so the page can say how soon to pay. */
  searchTimeoutMs: number;
}

/** Where and how an {@linkcode HttpServer} serves. */
export interface HttpOptions {
  hostname: string;
  port: number;
  /** A request's body must arrive within this time. */
  readTimeoutMs: number;
  /** Requests in hand at once (see {@linkcode ConnectionSlots}). */
  maxRequests: number;
  /** Requests in hand at once from one source (see {@linkcode requestSource}). */
  maxRequestsPerSource: number;
  logger: Logger;
  info: WalletInfo;
}

/**
 * A running HTTP server feeding a {@linkcode Node}: `Deno.serve` on `hostname:port`,
 * stopped by {@linkcode HttpServer.shutdown}, which finishes the requests in hand.
 * Requests are admitted by a {@linkcode ConnectionSlots} table, as the TCP listener admits
 * connections: at most `maxRequestsPerSource` from one source and `maxRequests` in all; one
 * past a cap takes the place of the request that has waited longest for its body, or is
 * answered 503.
 *
 * @example
 * ```ts ignore
 * const http = await HttpServer.start(node, {
 *   hostname: "127.0.0.1", port: 8080, readTimeoutMs: 5000,
 *   maxRequests: 512, maxRequestsPerSource: 64, logger, info,
 * });
 * await http.shutdown();
 * ```
 */
export class HttpServer {
  readonly addr: Deno.NetAddr;
  /** Resolves when the server is closed and every request it accepted is answered. */
  readonly finished: Promise<void>;
  #node: Node;
  #options: HttpOptions;
  #files: Map<string, Asset>;
  #slots: ConnectionSlots;
  /** Refusals any stranger can cause at will: a line per source and second. */
  #refusals: ThrottledLog;
  #stop = new AbortController();

  private constructor(node: Node, options: HttpOptions, assets: Map<string, Asset>) {
    this.#node = node;
    this.#options = options;
    this.#files = new Map(assets);
    this.#files.set("/server.json", {
      bytes: new TextEncoder().encode(JSON.stringify(options.info)),
      contentType: "application/json",
      etag: null,
    });
    this.#slots = new ConnectionSlots({
      maxConnections: options.maxRequests,
      maxPerSource: options.maxRequestsPerSource,
      logger: options.logger,
      listener: "http",
    });
    this.#refusals = new ThrottledLog({ logger: options.logger });
    const server = Deno.serve({
      hostname: options.hostname,
      port: options.port,
      signal: this.#stop.signal,
      onListen: () => {},
      onError: (error) => {
        options.logger.error("http-failed", { error: describe(error) });
        return answer(500, null, { "Cache-Control": "no-store" });
      },
    }, (request, info) => this.#serve(request, requestSource(request, info.remoteAddr.hostname)));
    this.addr = server.addr;
    this.finished = server.finished.finally(() => {
      this.#slots[Symbol.dispose]();
      this.#refusals[Symbol.dispose]();
    });
  }

  /** Reads the wallet's files, binds and starts serving; throws if the address cannot be bound. */
  static async start(node: Node, options: HttpOptions): Promise<HttpServer> {
    return new HttpServer(node, options, await loadAssets());
  }

  /**
   * Stops accepting, gives up the requests still waiting for their body (nothing of theirs
   * reached the node), and waits for the ones being served.
   */
  async shutdown(): Promise<void> {
    this.#stop.abort();
    this.#slots.closeWaiting();
    await this.finished;
  }

  async #serve(request: Request, source: string): Promise<Response> {
    const path = new URL(request.url).pathname;
    const refuse = (refusal: Refusal) => {
      if (!refusal.logged) {
        this.#refusals.warn("http-refused", source, {
          source,
          method: printable(request.method),
          path: printable(path),
          status: refusal.status,
          reason: refusal.reason,
        });
      }
      return answer(refusal.status, null, { "Cache-Control": "no-store", ...refusal.headers });
    };
    using slot = this.#slots.admit({ hostname: source });
    this.#options.logger.debug("http-request", () => ({
      source,
      method: printable(request.method),
      path: printable(path),
      admitted: slot !== null,
    }));
    if (slot === null) {
      // Logged by the slots table (connection-refused, listener=http).
      return refuse({ status: 503, reason: "refused", headers: RETRY, logged: true });
    }
    let result: Response | Refusal;
    if (path === DATAGRAM_PATH) {
      result = await datagramEndpoint(request, this.#node, slot, this.#options.readTimeoutMs);
    } else {
      slot.serving();
      result = fileAnswer(request, this.#files.get(path));
    }
    return result instanceof Response ? result : refuse(result);
  }
}

const RETRY = { "Retry-After": "1" };

/** An IPv4 or IPv6 address as a proxy writes it; anything else in the header is not trusted. */
const IP_ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:.]{2,45})$/;

/**
 * Where a request comes from: the last address of `X-Forwarded-For`, which the reverse
 * proxy in front sets or appends (the HTTP side listens only on loopback, so only a process
 * on this machine can send the header), or else the connection's own address.
 *
 * @example
 * ```ts
 * import { requestSource } from "./server.ts";
 * const request = new Request("http://127.0.0.1/", { headers: { "X-Forwarded-For": "10.0.0.1, 192.0.2.7" } });
 * requestSource(request, "127.0.0.1"); // "192.0.2.7"
 * requestSource(new Request("http://127.0.0.1/"), "127.0.0.1"); // "127.0.0.1"
 * ```
 */
export function requestSource(request: Request, remote: string): string {
  const forwarded = request.headers.get("X-Forwarded-For")?.split(",").at(-1)?.trim();
  return forwarded !== undefined && IP_ADDRESS.test(forwarded) ? forwarded : remote;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
