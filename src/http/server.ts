/**
 * The HTTP side of a server: the web wallet's files, and `POST /datagram`, which hands a
 * client datagram to the same {@linkcode Node} as the TCP listener and answers its bytes.
 */

import { Deadline, withSignal } from "../core/deadline.ts";
import type { Logger } from "../core/log.ts";
import type { Node } from "../server/node.ts";
import { DATAGRAM_SIZE, isServerCommand } from "../wire/datagram.ts";
import { printable } from "../wire/names.ts";
import { type Asset, loadAssets } from "./assets.ts";
import { answer } from "./headers.ts";

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
  /** Requests handled at once; more are answered 503 at once. */
  maxRequests: number;
  logger: Logger;
  info: WalletInfo;
}

/** Path of the datagram endpoint. */
export const DATAGRAM_PATH = "/datagram";
/** The only media type `POST /datagram` accepts, and the type of its answers. */
export const DATAGRAM_TYPE = "application/octet-stream";

/** Why a request was refused before it reached the node; logged as `http-refused`. */
type Refusal = { status: number; reason: string; headers?: Record<string, string> };

/**
 * A running HTTP server feeding a {@linkcode Node}: `Deno.serve` on `hostname:port`,
 * stopped by {@linkcode HttpServer.shutdown}, which finishes the requests in hand.
 *
 * @example
 * ```ts ignore
 * const http = await HttpServer.start(node, { hostname: "127.0.0.1", port: 8080, readTimeoutMs: 5000, maxRequests: 512, logger, info });
 * await http.shutdown();
 * ```
 */
export class HttpServer {
  readonly addr: Deno.NetAddr;
  /** Resolves when the server is closed and every request it accepted is answered. */
  readonly finished: Promise<void>;
  #node: Node;
  #options: HttpOptions;
  #assets: Map<string, Asset>;
  #info: Uint8Array;
  #inFlight = 0;
  #stop = new AbortController();

  private constructor(node: Node, options: HttpOptions, assets: Map<string, Asset>) {
    this.#node = node;
    this.#options = options;
    this.#assets = assets;
    this.#info = new TextEncoder().encode(JSON.stringify(options.info));
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
    this.finished = server.finished;
  }

  /** Reads the wallet's files, binds and starts serving; throws if the address cannot be bound. */
  static async start(node: Node, options: HttpOptions): Promise<HttpServer> {
    return new HttpServer(node, options, await loadAssets());
  }

  /** Stops accepting, then waits for the requests in hand. */
  async shutdown(): Promise<void> {
    this.#stop.abort();
    await this.finished;
  }

  async #serve(request: Request, source: string): Promise<Response> {
    const path = new URL(request.url).pathname;
    const refuse = (refusal: Refusal) => {
      this.#options.logger.warn("http-refused", {
        source,
        method: printable(request.method),
        path: printable(path),
        status: refusal.status,
        reason: refusal.reason,
      });
      return answer(refusal.status, null, { "Cache-Control": "no-store", ...refusal.headers });
    };
    if (this.#inFlight >= this.#options.maxRequests) {
      return refuse({ status: 503, reason: "too many requests at once", headers: RETRY });
    }
    this.#inFlight++;
    try {
      if (path === DATAGRAM_PATH) {
        const result = await this.#datagram(request);
        return result instanceof Response ? result : refuse(result);
      }
      const result = this.#file(request, path);
      return result instanceof Response ? result : refuse(result);
    } finally {
      this.#inFlight--;
    }
  }

  /** `POST /datagram`: exactly one client datagram in, the node's answer bytes out. */
  async #datagram(request: Request): Promise<Response | Refusal> {
    if (request.method !== "POST") {
      return { status: 405, reason: "datagrams are POSTed", headers: { Allow: "POST" } };
    }
    if (request.headers.get("Content-Type") !== DATAGRAM_TYPE) {
      return { status: 415, reason: `a datagram is sent as ${DATAGRAM_TYPE}` };
    }
    const declared = request.headers.get("Content-Length");
    if (declared !== null && declared !== String(DATAGRAM_SIZE)) {
      return sizeRefusal(/^[0-9]+$/.test(declared) ? Number(declared) : -1);
    }
    let bytes: Uint8Array;
    try {
      bytes = await readBody(request.body, DATAGRAM_SIZE + 1, this.#options.readTimeoutMs);
    } catch (error) {
      if (!(error instanceof Deno.errors.TimedOut)) throw error;
      return { status: 408, reason: "the datagram did not arrive in time" };
    }
    if (bytes.length !== DATAGRAM_SIZE) return sizeRefusal(bytes.length);
    if (isServerCommand(bytes[0])) {
      return { status: 400, reason: "server datagrams go to the TCP port" };
    }
    const response = await this.#node.receive(bytes);
    if (response === null) throw new Error("the node gave no answer to a client datagram");
    return answer(200, response, { "Content-Type": DATAGRAM_TYPE, "Cache-Control": "no-store" });
  }

  /** `GET /server.json` and the wallet's files. */
  #file(request: Request, path: string): Response | Refusal {
    const asset = path === "/server.json"
      ? { bytes: this.#info, contentType: "application/json", etag: null }
      : this.#assets.get(path);
    if (asset === undefined) return { status: 404, reason: "no such file" };
    if (request.method !== "GET" && request.method !== "HEAD") {
      return { status: 405, reason: "files are read with GET", headers: { Allow: "GET, HEAD" } };
    }
    const headers: Record<string, string> = { "Content-Type": asset.contentType };
    if (asset.etag === null) {
      headers["Cache-Control"] = "no-store";
    } else {
      // Revalidated on every load, so a new binary's page is used at once.
      headers["Cache-Control"] = "no-cache";
      headers["ETag"] = asset.etag;
      if (request.headers.get("If-None-Match") === asset.etag) return answer(304, null, headers);
    }
    return answer(200, request.method === "HEAD" ? null : asset.bytes, headers);
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

function sizeRefusal(size: number): Refusal {
  return size > DATAGRAM_SIZE
    ? { status: 413, reason: `a datagram is ${DATAGRAM_SIZE} bytes` }
    : { status: 400, reason: `a datagram is ${DATAGRAM_SIZE} bytes, got ${size}` };
}

/**
 * Reads a request body, but never more than `limit` bytes (the caller learns it was too
 * long from the length) and never for longer than `timeoutMs`: a client that sends slowly
 * cannot hold a request open.
 */
async function readBody(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  timeoutMs: number,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array();
  const reader = body.getReader();
  const bytes = new Uint8Array(limit);
  let filled = 0;
  using deadline = new Deadline(timeoutMs);
  try {
    while (filled < limit) {
      const { done, value } = await withSignal(reader.read(), deadline.signal);
      if (done) break;
      const taken = Math.min(value.length, limit - filled);
      bytes.set(value.subarray(0, taken), filled);
      filled += taken;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return bytes.subarray(0, filled);
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
