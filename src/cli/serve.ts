/** `ripple serve`: read the configuration, open the datadir, listen, and run until SIGINT or SIGTERM. */

import { Logger } from "../core/log.ts";
import { HttpServer } from "../http/server.ts";
import { DenoFileSystem } from "../store/fs.ts";
import { Listener } from "../server/listener.ts";
import { Node } from "../server/node.ts";
import { TcpTransport } from "../server/transport.ts";
import { ACCOUNTS_DIR } from "../store/paths.ts";
import { isUsername } from "../wire/names.ts";
import { DEFAULT_DATADIR, type OptionSpec, parseCommand, stringOption } from "./args.ts";
import { type DatadirLock, DatadirLocked, lockDatadir } from "./datadir.ts";
import {
  CONFIG_FILE,
  NUMBER_SETTINGS,
  PEER_SETTINGS,
  settingsHelp,
  TEXT_SETTINGS,
} from "./config.ts";
import { flag, loadConfig } from "./config_file.ts";

/** The exit status after a storage failure while running (EX_IOERR of sysexits.h). */
export const STORAGE_FAILED_EXIT = 74;

const HELP =
  `Usage: ripple serve [--datadir DIR] [--listen HOST:PORT] [--address ADDRESS] [SETTINGS]

Runs a ripple server: accounts in DIR/ripple, clients and peer servers on HOST:PORT.
Stops cleanly on SIGINT or SIGTERM, finishing the datagrams in hand.

On a full disk it keeps running: changes are refused ("busy: the server's disk is full"),
reads are answered, and changes resume by themselves once space is freed. Any other
storage error (an I/O error, a failed fsync) stops it at once with exit status
${STORAGE_FAILED_EXIT}; start it again (systemd's Restart=on-failure does) and it replays
its journal.

Every setting can be written in DIR/${CONFIG_FILE}, one "name = value" per line (# starts a
comment), or given as a flag --name-with-dashes VALUE, which wins over the file.

Options:
  --datadir DIR        data directory (default ${DEFAULT_DATADIR})
  --listen HOST:PORT   listen: where to accept connections (default 127.0.0.1:2012)
  --address ADDRESS    address: this server's public address, host or host:port, as peers
                       reach it (default: the listen address)
  --http HOST:PORT     http: serve the web wallet on this loopback address (default: off);
                       put a TLS reverse proxy in front of it for members elsewhere
  --log-format FORMAT  log_format: text (default) or json, one line per event on stderr
  --log-level LEVEL    log_level: debug, info (default), warn or error
  --unit UNIT          unit: what amounts count, shown by every client (e.g. hours, EUR);
                       none by default
  --decimals N         decimals: decimal places of amounts, 0 (default) to 18; the books
                       count in units of 10^-N, so choose unit and decimals once

Settings (time-outs in milliseconds):
${settingsHelp()}

The per-neighbour limits ${PEER_SETTINGS.join(", ")} can be set for one peer in a
section of the file: lines after "[peer ACCOUNT NAME@ADDRESS]" apply to that peer of that
account (ACCOUNT may be * for every account), until the next section.

Example:
  ripple serve --datadir ./data-a --listen 127.0.0.2:2012 --lock-timeout-ms 20000`;

/** The server stopped because storage failed; it logged why, and the process exits with `code`. */
export class ServeFailure extends Error {
  override name = "ServeFailure";
  readonly code = STORAGE_FAILED_EXIT;
}

const OPTIONS: OptionSpec = Object.fromEntries([
  ["datadir", { type: "string" }],
  ...[...TEXT_SETTINGS, ...Object.keys(NUMBER_SETTINGS)].map((
    name,
  ) => [flag(name), { type: "string" }]),
]);

/** Runs `ripple serve` until a signal stops it. */
export async function serveCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, OPTIONS, HELP, [0, 0]);
  if (parsed === null) return;
  const datadir = stringOption(parsed, "datadir", DEFAULT_DATADIR);
  const config = await loadConfig(datadir, (name) => stringOption(parsed, flag(name)));
  const logger = new Logger({ format: config.logFormat, level: config.logLevel });
  await checkWritable(`${datadir}/ripple`);
  using lock = await lockServing(datadir);
  const stopped = Promise.withResolvers<void>();
  let fatal: Error | null = null;
  const node = await Node.open({
    fs: new DenoFileSystem(),
    datadir,
    address: config.address,
    transport: new TcpTransport({ timeoutMs: config.limits.sendTimeoutMs }),
    logger,
    limits: config.limits,
    display: config.display,
    onFatal: (error) => {
      fatal = error;
      stopped.resolve();
    },
    onOutOfFiles: () => listener?.outOfFiles(),
  });
  let listener: Listener | undefined;
  try {
    listener = Listener.start(node, {
      hostname: config.listen.host,
      port: config.listen.port,
      readTimeoutMs: config.limits.readTimeoutMs,
      maxConnections: config.limits.maxConnections,
      maxConnectionsPerSource: config.limits.maxConnectionsPerSource,
      logger,
    });
  } catch (error) {
    await node.close();
    throw new Error(`cannot listen on ${config.listen.host}:${config.listen.port}: ${why(error)}`);
  }
  let http: HttpServer | null = null;
  if (config.http !== null) {
    try {
      http = await HttpServer.start(node, {
        hostname: config.http.host,
        port: config.http.port,
        readTimeoutMs: config.limits.readTimeoutMs,
        maxRequests: config.limits.maxConnections,
        maxRequestsPerSource: config.limits.maxConnectionsPerSource,
        logger,
        info: { address: config.address, searchTimeoutMs: config.limits.searchTimeoutMs },
      });
    } catch (error) {
      await listener.shutdown();
      await node.close();
      throw new Error(
        `cannot serve http on ${config.http.host}:${config.http.port}: ${why(error)}`,
      );
    }
  }
  const listen = `${listener.addr.hostname}:${listener.addr.port}`;
  await lock.announce(listen);
  logger.info("listening", {
    listen,
    http: http === null ? undefined : `${http.addr.hostname}:${http.addr.port}`,
    address: config.address,
    datadir,
  });
  if (await hasNoAccounts(datadir)) {
    logger.info("no-accounts", {
      next: `add one with: ripple account add NAME --datadir ${datadir} (see README.md)`,
    });
  }
  const onSignal = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  await stopped.promise;
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  // After a storage failure nothing more is written (an fsync is never retried): the node
  // only answers what is in hand, and the journal is left for the next start to replay.
  if (fatal === null) logger.info("stopping");
  await Promise.all([listener.shutdown(), http?.shutdown()]);
  try {
    await node.close();
  } catch (error) {
    if (fatal === null) throw error;
  }
  if (fatal !== null) throw new ServeFailure((fatal as Error).message);
}

function why(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Fails early, with the reason, if the server could not write its files. */
async function checkWritable(dir: string): Promise<void> {
  const probe = `${dir}/.write-test`;
  try {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (error) {
    throw new Error(`cannot write to ${dir}: ${error instanceof Error ? error.message : error}`);
  }
}

/** Holds the datadir's lock so two servers never share it. */
async function lockServing(datadir: string): Promise<DatadirLock> {
  try {
    return await lockDatadir(datadir);
  } catch (error) {
    if (!(error instanceof DatadirLocked)) throw error;
    throw new Error(`another ripple server is using ${datadir}; stop it first`);
  }
}

/** Whether the datadir has no account yet: a new server, whose operator needs the next step. */
async function hasNoAccounts(datadir: string): Promise<boolean> {
  try {
    for await (const entry of Deno.readDir(`${datadir}/ripple/${ACCOUNTS_DIR}`)) {
      if (isUsername(entry.name)) return false;
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return true;
}
