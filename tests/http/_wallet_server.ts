/** A real `ripple serve` with the web wallet on an HTTP port beside its TCP port. */

import {
  freePort,
  type RippleServer,
  type ServerOptions,
  startServer,
} from "../integration/harness.ts";

/** A running server and where its wallet is served. */
export interface WalletServer extends AsyncDisposable {
  readonly server: RippleServer;
  /** `http://host:port/`: the page. */
  readonly url: string;
}

/**
 * Starts `ripple serve --http HOST:PORT` on `host`, with a free port for each side.
 *
 * @example
 * ```ts ignore
 * await using wallet = await startWalletServer({ host: "127.0.0.2" });
 * await fetch(wallet.url);
 * ```
 */
export async function startWalletServer(options: ServerOptions): Promise<WalletServer> {
  const port = freePort(options.host);
  const server = await startServer({
    ...options,
    args: ["--http", `${options.host}:${port}`, ...(options.args ?? [])],
  });
  return {
    server,
    url: `http://${options.host}:${port}/`,
    [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
  };
}
