/**
 * The load benchmark's TCP limit: a listener that does what a ripple server does on the
 * socket and nothing else. Per connection it reads one 389-byte datagram, writes a 35-byte
 * answer (the size of an ok answer with an empty body) and closes first, as the server does.
 *
 * Run as a child process: `deno run --allow-net bench/_echo_server.ts HOST PORT`.
 */

const DATAGRAM_SIZE = 389;
const ANSWER = new Uint8Array(35);

async function answer(conn: Deno.TcpConn): Promise<void> {
  try {
    const buffer = new Uint8Array(DATAGRAM_SIZE);
    let filled = 0;
    while (filled < DATAGRAM_SIZE) {
      const n = await conn.read(buffer.subarray(filled));
      if (n === null) return;
      filled += n;
    }
    let written = 0;
    while (written < ANSWER.length) written += await conn.write(ANSWER.subarray(written));
  } catch {
    // A client that went away; nothing to answer.
  } finally {
    conn.close();
  }
}

if (import.meta.main) {
  const [hostname, port] = Deno.args;
  const listener = Deno.listen({ hostname, port: Number(port) });
  Deno.addSignalListener("SIGTERM", () => listener.close());
  console.error("listening");
  try {
    for await (const conn of listener) answer(conn);
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
}
