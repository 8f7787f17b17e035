/** A TCP proxy in front of a server, forwarding server datagrams one at a time and dropping chosen commands. */

import { Deadline, readUpTo, withSignal, writeAll } from "../../src/core/deadline.ts";
import { DATAGRAM_SIZE } from "../../src/wire/datagram.ts";
import { freePort } from "./_server.ts";

/** A running proxy. */
export interface Proxy extends AsyncDisposable {
  /** `host:port` the proxy listens on: give it to the server as its public address. */
  readonly address: string;
  /** From now on, datagrams with these command numbers are dropped instead of forwarded. */
  block(...commands: number[]): void;
  /** Forward everything again. */
  unblock(): void;
  /** How many datagrams with `command` were dropped. */
  dropped(command: number): number;
}

/**
 * Listens on a free port at `host` and forwards each datagram to `target` (`host:port`),
 * in the order received: the incoming connection is closed only once the target has taken
 * the datagram, as the target itself would, so the sender's order is kept.
 *
 * @example
 * ```ts ignore
 * await using proxy = startProxy("127.0.0.6", "127.0.0.3:40000");
 * proxy.block(136); // drop commits
 * ```
 */
export function startProxy(host: string, target: string): Proxy {
  const listener = Deno.listen({ hostname: host, port: freePort(host) });
  const blocked = new Set<number>();
  const drops = new Map<number, number>();
  let queue = Promise.resolve();
  const connections = new Set<Promise<void>>();
  const [targetHost, targetPort] = target.split(":");

  const forward = async (bytes: Uint8Array) => {
    using deadline = new Deadline(5000);
    using conn = await Deno.connect({
      hostname: targetHost,
      port: Number(targetPort),
      signal: deadline.signal,
    });
    await writeAll(conn, bytes, deadline.signal);
    while ((await withSignal(conn.read(new Uint8Array(16)), deadline.signal)) !== null) {
      // The target closes once it has the datagram.
    }
  };

  const handle = async (conn: Deno.TcpConn) => {
    try {
      let bytes: Uint8Array;
      {
        using deadline = new Deadline(5000);
        bytes = await readUpTo(conn, DATAGRAM_SIZE, deadline.signal);
      }
      if (bytes.length === 0) return;
      if (blocked.has(bytes[0])) {
        drops.set(bytes[0], (drops.get(bytes[0]) ?? 0) + 1);
        return;
      }
      const turn = queue.then(() => forward(bytes));
      queue = turn.catch(() => {});
      await turn;
    } catch {
      // The target is down: the datagram is lost, as on a real network.
    } finally {
      conn.close();
    }
  };

  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const handled = handle(conn).finally(() => connections.delete(handled));
        connections.add(handled);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  })();

  return {
    address: `${host}:${listener.addr.port}`,
    block: (...commands) => commands.forEach((command) => blocked.add(command)),
    unblock: () => blocked.clear(),
    dropped: (command) => drops.get(command) ?? 0,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      await Promise.allSettled([...connections]);
    },
  };
}
