/** `ripple serve`: open the datadir, listen, and run until SIGINT or SIGTERM. */

import { Logger } from "../core/log.ts";
import { DenoFileSystem } from "../store/fs.ts";
import { Listener } from "../server/listener.ts";
import { Node } from "../server/node.ts";
import { TcpTransport } from "../server/transport.ts";
import { formatServerAddress, NameError, parseServerAddress } from "../wire/names.ts";
import { DEFAULT_DATADIR, parseCommand, stringOption, UsageError } from "./args.ts";

const HELP = `Usage: ripple serve [--datadir DIR] [--listen HOST:PORT] [--address ADDRESS]

Runs a ripple server: accounts in DIR/ripple, clients and peer servers on HOST:PORT.
Stops cleanly on SIGINT or SIGTERM, finishing the datagrams in hand.

Options:
  --datadir DIR        data directory (default ${DEFAULT_DATADIR})
  --listen HOST:PORT   where to accept connections (default 127.0.0.1:2012)
  --address ADDRESS    this server's public address, as peers reach it: host or host:port
                       (default: the listen address)
  --log-format FORMAT  text (default) or json, one line per event on stderr
  --log-level LEVEL    debug, info (default), warn or error

Example:
  ripple serve --datadir ./data-a --listen 127.0.0.2:2012 --address 127.0.0.2`;

const OPTIONS = {
  datadir: { type: "string" },
  listen: { type: "string" },
  address: { type: "string" },
  "log-format": { type: "string" },
  "log-level": { type: "string" },
} as const;

/** Runs `ripple serve` until a signal stops it. */
export async function serveCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, OPTIONS, HELP, [0, 0]);
  if (parsed === null) return;
  const datadir = stringOption(parsed, "datadir", DEFAULT_DATADIR);
  const listen = addressOption(stringOption(parsed, "listen", "127.0.0.1:2012"), "--listen");
  if (listen.host === "0.0.0.0" && stringOption(parsed, "address") === undefined) {
    throw new UsageError(
      "listening on all interfaces: give --address, the address peers reach this server at",
    );
  }
  const address = formatServerAddress(
    addressOption(stringOption(parsed, "address") ?? formatServerAddress(listen), "--address"),
  );
  const format = stringOption(parsed, "log-format", "text");
  const level = stringOption(parsed, "log-level", "info");
  if (format !== "text" && format !== "json") throw new UsageError("--log-format is text or json");
  if (!["debug", "info", "warn", "error"].includes(level)) {
    throw new UsageError("--log-level is debug, info, warn or error");
  }
  const logger = new Logger({ format, level: level as "info" });

  await Deno.mkdir(`${datadir}/ripple`, { recursive: true });
  using lock = await lockDatadir(datadir);
  const stopped = Promise.withResolvers<void>();
  const node = await Node.open({
    fs: new DenoFileSystem(),
    datadir,
    address,
    transport: new TcpTransport({ timeoutMs: 5000 }),
    logger,
    onFatal: () => stopped.resolve(),
  });
  let listener: Listener;
  try {
    listener = Listener.start(node, {
      hostname: listen.host,
      port: listen.port,
      readTimeoutMs: node.limits.readTimeoutMs,
      maxConnections: node.limits.maxConnections,
      logger,
    });
  } catch (error) {
    await node.close();
    throw new Error(
      `cannot listen on ${listen.host}:${listen.port}: ${
        error instanceof Error ? error.message : error
      }`,
    );
  }
  logger.info("listening", {
    listen: `${listener.addr.hostname}:${listener.addr.port}`,
    address,
    datadir,
  });
  const onSignal = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  await stopped.promise;
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  logger.info("stopping");
  await listener.shutdown();
  await node.close();
  void lock;
}

function addressOption(text: string, option: string) {
  try {
    return parseServerAddress(text);
  } catch (error) {
    if (error instanceof NameError) throw new UsageError(`${option}: ${error.message}`);
    throw error;
  }
}

/** Holds an exclusive lock on the datadir so two servers never share it. */
async function lockDatadir(datadir: string): Promise<Disposable> {
  const file = await Deno.open(`${datadir}/ripple/server.lock`, { write: true, create: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) =>
    timer = setTimeout(() => resolve("timeout"), 500)
  );
  const outcome = await Promise.race([file.lock(true).then(() => "locked" as const), timeout]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    file.close();
    throw new Error(`another ripple server is using ${datadir}; stop it first`);
  }
  return { [Symbol.dispose]: () => file.close() };
}
