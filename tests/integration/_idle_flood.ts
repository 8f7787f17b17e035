/** Idle TCP connections held open from one source address, as a flooding attacker would. */

import net from "node:net";
import { parseServerAddress } from "../../src/wire/names.ts";

/** Connections opened at once: well below a listener's accept queue (511 for Deno's). */
const BATCH = 100;

/** Where an {@linkcode IdleFlood} connects, from where, and how many it holds. */
export interface IdleFloodOptions {
  /** The server, `host:port`. */
  address: string;
  /** The local address every connection is bound to, e.g. `127.0.0.50`: its source address. */
  from: string;
  /** Connections to hold open. */
  count: number;
  /**
   * Open a new connection this long after the server closes one, as a tool that keeps a
   * number of connections open does (0: at once, a connection flood); never if left out.
   */
  reopenAfterMs?: number;
}

/** What an {@linkcode IdleFlood} did so far. */
export interface IdleFloodStats {
  /** Connections that were established. */
  connected: number;
  /** Established connections the server closed (all of them, if it is fair). */
  closedByServer: number;
  /** Connections that could not be established. */
  failed: number;
  /** Established and not closed. */
  open: number;
}

/**
 * Opens `count` connections that never send a byte, each bound to `from` with node:net
 * (`Deno.connect` cannot bind a local address), and keeps them until disposed. Disposing
 * destroys every socket and waits until each is closed, so a test's sanitizers are satisfied.
 *
 * @example
 * ```ts ignore
 * await using flood = IdleFlood.start({ address: server.address, from: "127.0.0.50", count: 1_500 });
 * await flood.settled();
 * flood.stats; // { connected: 1500, closedByServer: 1436, failed: 0, open: 64 }
 * ```
 */
export class IdleFlood implements AsyncDisposable {
  #options: IdleFloodOptions;
  #sockets = new Set<net.Socket>();
  /** Resolves when its socket has closed; removed then. */
  #closing = new Set<Promise<void>>();
  #stopping = false;
  #reopening = new Set<ReturnType<typeof setTimeout>>();
  #attempts = 0;
  #settled = Promise.withResolvers<void>();
  #stats = { connected: 0, closedByServer: 0, failed: 0 };

  private constructor(options: IdleFloodOptions) {
    this.#options = options;
  }

  /**
   * Starts opening the connections, {@linkcode BATCH} at a time: a burst larger than the
   * server's accept queue would leave connections that are established for this side only
   * (the kernel answers with SYN cookies and drops the last ACK), which never reach the
   * server and so would test nothing.
   */
  static start(options: IdleFloodOptions): IdleFlood {
    const flood = new IdleFlood(options);
    flood.#openBatches();
    return flood;
  }

  get stats(): IdleFloodStats {
    return { ...this.#stats, open: this.#stats.connected - this.#stats.closedByServer };
  }

  /** Resolves once each of the first `count` connections was established or failed. */
  settled(): Promise<void> {
    return this.#settled.promise;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#reopening) clearTimeout(timer);
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all(this.#closing);
  }

  async #openBatches(): Promise<void> {
    for (let opened = 0; opened < this.#options.count && !this.#stopping;) {
      const batch = Math.min(BATCH, this.#options.count - opened);
      await Promise.all(Array.from({ length: batch }, () => this.#open()));
      opened += batch;
    }
  }

  /** Opens one connection; resolves when it is established or has failed. */
  #open(): Promise<void> {
    const attempted = Promise.withResolvers<void>();
    const { host, port } = parseServerAddress(this.#options.address);
    const socket = net.connect({ host, port, localAddress: this.#options.from });
    this.#sockets.add(socket);
    let connected = false;
    socket.once("connect", () => {
      connected = true;
      this.#stats.connected++;
      this.#attempted();
      attempted.resolve();
    });
    // Without a listener an error would be thrown; the close that follows it is counted.
    socket.on("error", () => {});
    const closed: Promise<void> = new Promise((resolve) =>
      socket.once("close", () => {
        this.#sockets.delete(socket);
        this.#closing.delete(closed);
        if (!connected) {
          this.#stats.failed++;
          this.#attempted();
          attempted.resolve();
        } else if (!this.#stopping) {
          this.#stats.closedByServer++;
        }
        if (this.#options.reopenAfterMs !== undefined && !this.#stopping) this.#reopen();
        resolve();
      })
    );
    this.#closing.add(closed);
    return attempted.promise;
  }

  #reopen(): void {
    const timer = setTimeout(() => {
      this.#reopening.delete(timer);
      void this.#open();
    }, this.#options.reopenAfterMs);
    this.#reopening.add(timer);
  }

  #attempted(): void {
    if (++this.#attempts === this.#options.count) this.#settled.resolve();
  }
}
