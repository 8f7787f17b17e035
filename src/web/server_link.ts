/** How the page reaches the server that served it: datagrams over `POST /datagram`, public facts from `/server.json`. */

import type { Exchange } from "../client/client.ts";
import { isCanonicalAddress } from "../wire/names.ts";

/** The server refused the request at the HTTP level (it never reached the account). */
export class HttpError extends Error {
  override name = "HttpError";
  readonly status: number;
  constructor(status: number) {
    super(`the server answered HTTP ${status}`);
    this.status = status;
  }
}

/**
 * The client library's exchange over HTTP: the 389 bytes as the body of a POST to the page's
 * own server, the answer bytes back, within `timeoutMs`.
 *
 * @example
 * ```ts ignore
 * const client = new Client({ server: info.address, account, key, counters, exchange: httpExchange(10_000) });
 * ```
 */
export function httpExchange(timeoutMs: number): Exchange {
  return async (_address, request) => {
    const response = await fetch("/datagram", {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: request as BufferSource,
      cache: "no-store",
      credentials: "omit",
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new HttpError(response.status);
    return new Uint8Array(await response.arrayBuffer());
  };
}

/** What the server says about itself. */
export interface WalletInfo {
  /** The server's public address: accounts here are `name@address`. */
  address: string;
  /** How long a seller's search waits for the buyer. */
  searchTimeoutMs: number;
}

/** Fetches and checks `/server.json`. */
export async function fetchWalletInfo(timeoutMs: number): Promise<WalletInfo> {
  const response = await fetch("/server.json", {
    cache: "no-store",
    credentials: "omit",
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new HttpError(response.status);
  return parseWalletInfo(await response.json());
}

/**
 * Checks the shape of `/server.json`.
 *
 * @example
 * ```ts
 * import { parseWalletInfo } from "./server_link.ts";
 * parseWalletInfo({ address: "127.0.0.2", searchTimeoutMs: 30000 }).address; // "127.0.0.2"
 * ```
 */
export function parseWalletInfo(json: unknown): WalletInfo {
  const info = json as Partial<WalletInfo> | null;
  if (
    typeof info?.address !== "string" || !isCanonicalAddress(info.address) ||
    typeof info.searchTimeoutMs !== "number" || !(info.searchTimeoutMs > 0)
  ) {
    throw new Error("the server's /server.json is not what this page expects");
  }
  return { address: info.address, searchTimeoutMs: info.searchTimeoutMs };
}
