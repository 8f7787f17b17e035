/** The server's configuration: `DATADIR/ripple.conf` (`key = value` lines), each key also a flag that overrides it. */

import {
  DEFAULT_DISPLAY,
  DEFAULT_LIMITS,
  type DisplayUnit,
  type Limits,
  MAX_DECIMALS,
  type NumericLimit,
  type PeerLimits,
  peerLimitsKey,
} from "../core/config.ts";
import type { Level } from "../core/log.ts";
import {
  formatAccountRef,
  formatServerAddress,
  isUsername,
  NameError,
  parseAccountRef,
  parseServerAddress,
  type ServerAddress,
} from "../wire/names.ts";

import { ConfigError, readSettingLines } from "./settings_file.ts";

export { ConfigError } from "./settings_file.ts";

/** Everything `ripple serve` runs with. */
export interface ServerConfig {
  listen: ServerAddress;
  /** Canonical public address. */
  address: string;
  logFormat: "text" | "json";
  logLevel: Level;
  limits: Limits;
  /** How clients show amounts (`unit`, `decimals`). */
  display: DisplayUnit;
  // Web wallet (issue 16)
  /** Where the web wallet is served over HTTP; null (the default) serves none. */
  http: ServerAddress | null;
}

interface NumberSetting {
  field: NumericLimit;
  min: number;
  max: number;
  help: string;
}

/** The numeric settings: name in the file (the flag is the same with dashes), field, range. */
export const NUMBER_SETTINGS: Record<string, NumberSetting> = {
  read_timeout_ms: {
    field: "readTimeoutMs",
    min: 100,
    max: 600_000,
    help: "a connection must deliver its datagram within this",
  },
  // Fair service of connections.
  max_connections: {
    field: "maxConnections",
    min: 1,
    max: 100_000,
    help: "connections in hand at once; the idlest waiting one makes room",
  },
  max_connections_per_source: {
    field: "maxConnectionsPerSource",
    min: 1,
    max: 100_000,
    help: "connections in hand at once from one source address",
  },
  queue_per_account: {
    field: "queuePerAccount",
    min: 1,
    max: 100_000,
    help: "datagrams waiting per account before busy",
  },
  outbox_per_peer: {
    field: "outboxPerPeer",
    min: 1,
    max: 100_000,
    help: "datagrams waiting to be sent per peer",
  },
  send_timeout_ms: {
    field: "sendTimeoutMs",
    min: 100,
    max: 600_000,
    help: "time to deliver one datagram to a peer",
  },
  retry_base_ms: {
    field: "retryBaseMs",
    min: 10,
    max: 3_600_000,
    help: "first trustline resend delay",
  },
  retry_max_ms: {
    field: "retryMaxMs",
    min: 10,
    max: 86_400_000,
    help: "longest trustline resend delay",
  },
  search_timeout_ms: {
    field: "searchTimeoutMs",
    min: 100,
    max: 30_000,
    help: "time limit of a path search (30 s at most)",
  },
  max_depth: {
    field: "maxDepth",
    min: 1,
    max: 16,
    help: "rounds per search front; paths have at most twice this many hops",
  },
  max_searches_per_account: {
    field: "maxSearchesPerAccount",
    min: 1,
    max: 100_000,
    help: "searches one account takes part in at once",
  },
  probe_timeout_ms: {
    field: "probeTimeoutMs",
    min: 10,
    max: 60_000,
    help: "search probes are resent after this",
  },
  probe_retries: {
    field: "probeRetries",
    min: 0,
    max: 10,
    help: "search probe resends before a neighbour is left out",
  },
  label_trees: {
    field: "labelTrees",
    min: 0,
    max: 3,
    help: "spanning trees of the routing labels (0: no directed walk, the flood alone)",
  },
  walk_budget: {
    field: "walkBudget",
    min: 1,
    max: 1_000,
    help: "accounts a directed walk may try before the flood takes over",
  },
  walk_wait_ms: {
    field: "walkWaitMs",
    min: 0,
    max: 30_000,
    help:
      "how long a seller waits for the buyer's walk before its own flood, paced over as long again",
  },
  lock_timeout_ms: {
    field: "lockTimeoutMs",
    min: 100,
    max: 3_600_000,
    help: "how long a payment lock holds before the commit",
  },
  commit_query_ms: {
    field: "commitQueryMs",
    min: 10,
    max: 3_600_000,
    help: "commit resends before asking whether it arrived",
  },
  step_retry_base_ms: {
    field: "stepRetryBaseMs",
    min: 10,
    max: 3_600_000,
    help: "first payment step resend delay",
  },
  step_retry_max_ms: {
    field: "stepRetryMaxMs",
    min: 10,
    max: 3_600_000,
    help: "longest payment step resend delay",
  },
  // Deadlines after the commit (docs/protocol.md §9).
  commit_deadline_ms: {
    field: "commitDeadlineMs",
    min: 1_000,
    max: 30 * 86_400_000,
    help: "past this after its commit, a silent downstream is charged for the wait",
  },
  commit_margin_ms: {
    field: "commitMarginMs",
    min: 10,
    max: 86_400_000,
    help: "how much shorter each account makes the deadline it passes down",
  },
  release_period_ms: {
    field: "releasePeriodMs",
    min: 1_000,
    max: 365 * 86_400_000,
    help: "time for a silent downstream's payment to be released in full",
  },
  release_chunk_ms: {
    field: "releaseChunkMs",
    min: 10,
    max: 86_400_000,
    help: "how often the release is raised",
  },
  release_grace_ms: {
    field: "releaseGraceMs",
    min: 0,
    max: 86_400_000,
    help: "after a restart, no release before the server has run this long",
  },
  query_retry_max_ms: {
    field: "queryRetryMaxMs",
    min: 10,
    max: 86_400_000,
    help: "longest time between two queries of a committed payment",
  },
  // Per-neighbour limits; the three peer_* ones may also be set per peer (PEER_SETTINGS).
  peer_lock_share_percent: {
    field: "peerLockSharePercent",
    min: 0,
    max: 100,
    help: "share (%) of a trustline that locks passing through for a neighbour may hold",
  },
  peer_payments_in_flight: {
    field: "peerPaymentsInFlight",
    min: 0,
    max: 100_000,
    help: "payments in flight with one neighbour, beyond which none pass through it",
  },
  peer_searches: {
    field: "peerSearches",
    min: 0,
    max: 100_000,
    help: "search states one neighbour may open at an account",
  },
  peer_held_up: {
    field: "peerHeldUp",
    min: 0,
    max: 100_000,
    help:
      "payments a neighbour may hold up (a commit query left unanswered) before none pass through towards it; 0: off",
  },
  held_up_after_ms: {
    field: "heldUpAfterMs",
    min: 1,
    max: 3_600_000,
    help:
      "how long a neighbour may leave a commit or its query without a word before it holds the payment up",
  },
  peer_waiting: {
    field: "peerWaiting",
    min: 0,
    max: 100_000,
    help:
      "payments a neighbour may keep unsettled past waiting_after_ms, answering only waiting, before none pass through towards it; 0: off",
  },
  waiting_after_ms: {
    field: "waitingAfterMs",
    min: 1,
    max: 86_400_000,
    help:
      "how long a neighbour may answer a commit with nothing but waiting before the payment counts against peer_waiting",
  },
  peer_slow_locks: {
    field: "peerSlowLocks",
    min: 0,
    max: 100_000,
    help:
      "locks a neighbour may leave unanswered past slow_lock_after_ms before none pass through towards it; 0: off",
  },
  slow_lock_after_ms: {
    field: "slowLockAfterMs",
    min: 1,
    max: 3_600_000,
    help:
      "how long a neighbour may leave a lock without locked or abort before it counts against peer_slow_locks",
  },
  own_searches_reserved: {
    field: "ownSearchesReserved",
    min: 0,
    max: 100_000,
    help: "search slots of an account kept for its own payments",
  },
};

/** The settings a `[peer ACCOUNT NAME@ADDRESS]` section of the file may override. */
export const PEER_SETTINGS = [
  "peer_lock_share_percent",
  "peer_payments_in_flight",
  "peer_searches",
  "peer_held_up",
  "peer_waiting",
  "peer_slow_locks",
] as const;

/** The settings of one `[peer ACCOUNT NAME@ADDRESS]` section. */
export interface PeerSection {
  /** The local account, or `*` for every account. */
  account: string;
  /** The peer, canonical `name@address`. */
  peer: string;
  values: Map<string, string>;
  where: Map<string, string>;
}

/** The settings that are not limits. */
export const TEXT_SETTINGS = [
  "listen",
  "address",
  "log_format",
  "log_level",
  // Display unit (issue 15)
  "unit",
  "decimals",
  // Web wallet
  "http",
] as const;

/** File name of the configuration inside the datadir. */
export const CONFIG_FILE = "ripple.conf";

/**
 * Parses the text of a configuration file into settings (name → value text). Blank lines
 * are skipped, and so is a `#` at the start of a line or after a space, to the end of its
 * line; anything else must be `name = value` with a known name, once.
 *
 * @example
 * ```ts
 * import { parseConfigText } from "./config.ts";
 * parseConfigText("# a comment\nlisten = 127.0.0.2:2012   # where\n", "ripple.conf");
 * // Map { "listen" => "127.0.0.2:2012" }
 * ```
 */
export function parseConfigText(text: string, file: string): Map<string, string> {
  return parseConfigLines(text, file).values;
}

/**
 * Like {@linkcode parseConfigText}, also telling where each setting was (`file:line`), with
 * the `[peer ACCOUNT NAME@ADDRESS]` sections that override the per-neighbour limits.
 */
export function parseConfigLines(
  text: string,
  file: string,
): { values: Map<string, string>; where: Map<string, string>; peers: PeerSection[] } {
  const top: PeerSection = { account: "", peer: "", values: new Map(), where: new Map() };
  const peers: PeerSection[] = [];
  let section = top;
  for (const { where, header, name, value } of readSettingLines(text, file)) {
    if (header !== undefined) {
      section = peerSection(header, where);
      const key = peerLimitsKey(section.account, section.peer);
      if (peers.some((p) => peerLimitsKey(p.account, p.peer) === key)) {
        throw new ConfigError(`${where}: the section for ${key} appears twice`);
      }
      peers.push(section);
      continue;
    }
    if (
      !Object.hasOwn(NUMBER_SETTINGS, name) && !(TEXT_SETTINGS as readonly string[]).includes(name)
    ) {
      throw new ConfigError(
        `${where}: unknown setting "${name}"; run "ripple serve --help" for the list`,
      );
    }
    if (section !== top && !(PEER_SETTINGS as readonly string[]).includes(name)) {
      throw new ConfigError(
        `${where}: "${name}" cannot be set per peer; a [peer …] section takes only ${
          PEER_SETTINGS.join(", ")
        }`,
      );
    }
    if (section.values.has(name)) throw new ConfigError(`${where}: "${name}" is set twice`);
    section.values.set(name, value);
    section.where.set(name, where);
  }
  return { values: top.values, where: top.where, peers };
}

/** Parses a `[peer ACCOUNT NAME@ADDRESS]` header. */
function peerSection(line: string, where: string): PeerSection {
  const match = /^\[\s*peer\s+(\S+)\s+(\S+)\s*\]$/.exec(line);
  if (match === null) {
    throw new ConfigError(
      `${where}: expected a section "[peer ACCOUNT NAME@ADDRESS]" (ACCOUNT may be *), got "${line}"`,
    );
  }
  const [, account, peerText] = match;
  if (account !== "*" && !isUsername(account)) {
    throw new ConfigError(`${where}: "${account}" is not an account name (or * for every account)`);
  }
  try {
    const peer = formatAccountRef(parseAccountRef(peerText));
    return { account, peer, values: new Map(), where: new Map() };
  } catch (error) {
    if (error instanceof NameError) throw new ConfigError(`${where}: ${error.message}`);
    throw error;
  }
}

/**
 * Builds the server configuration from the file's settings and the command line's (which
 * win), checking every value. `source` names where each setting came from, for messages.
 */
export function buildConfig(
  settings: Map<string, string>,
  source: (name: string) => string,
  peers: PeerSection[] = [],
): ServerConfig {
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const name of Object.keys(NUMBER_SETTINGS)) {
    const text = settings.get(name);
    if (text !== undefined) setNumber(limits, name, text, source(name));
  }
  const overrides = new Map<string, Partial<PeerLimits>>();
  for (const section of peers) {
    const override: Partial<Limits> = {};
    for (const [name, text] of section.values) {
      setNumber(override, name, text, section.where.get(name)!);
    }
    overrides.set(peerLimitsKey(section.account, section.peer), override as Partial<PeerLimits>);
  }
  limits.peerOverrides = overrides;
  if (limits.retryMaxMs < limits.retryBaseMs || limits.stepRetryMaxMs < limits.stepRetryBaseMs) {
    throw new ConfigError("a *_retry_max_ms setting is below its *_retry_base_ms");
  }
  // The buyer passes its deadline and half of it as the claim time; each hop narrows the gap
  // between them by two margins (docs/protocol.md §9), so it must leave room for a path.
  const hops = 2 * limits.maxDepth;
  if (limits.commitDeadlineMs < 4 * limits.commitMarginMs * (hops + 1)) {
    throw new ConfigError(
      `commit_deadline_ms (${limits.commitDeadlineMs}) must be at least ${
        4 * limits.commitMarginMs * (hops + 1)
      } (4 × commit_margin_ms × ${hops + 1}), so that a path of ${hops} hops fits`,
    );
  }
  const listen = address(settings.get("listen") ?? "127.0.0.1:2012", source("listen"));
  const publicText = settings.get("address");
  if (publicText === undefined && listen.host === "0.0.0.0") {
    throw new ConfigError(
      `listening on all interfaces (${
        source("listen")
      }): set address, the one peers reach this server at`,
    );
  }
  const logFormat = settings.get("log_format") ?? "text";
  if (logFormat !== "text" && logFormat !== "json") {
    throw new ConfigError(
      `${source("log_format")}: log_format is text or json, got "${logFormat}"`,
    );
  }
  const logLevel = settings.get("log_level") ?? "info";
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    throw new ConfigError(
      `${source("log_level")}: log_level is debug, info, warn or error, got "${logLevel}"`,
    );
  }
  return {
    listen,
    address: formatServerAddress(
      publicText === undefined ? listen : address(publicText, source("address")),
    ),
    logFormat,
    logLevel: logLevel as Level,
    limits,
    display: displayUnit(settings, source),
    http: httpAddress(settings.get("http"), source("http")),
  };
}
// Display unit (issue 15)
function displayUnit(
  settings: Map<string, string>,
  source: (name: string) => string,
): DisplayUnit {
  const unit = settings.get("unit") ?? DEFAULT_DISPLAY.unit;
  if (!/^[\x21-\x7e]{0,32}$/.test(unit)) {
    throw new ConfigError(
      `${
        source("unit")
      }: unit is at most 32 printable ASCII characters without spaces, got "${unit}"`,
    );
  }
  const decimalsText = settings.get("decimals") ?? String(DEFAULT_DISPLAY.decimals);
  const decimals = /^[0-9]{1,2}$/.test(decimalsText) ? Number(decimalsText) : NaN;
  if (!(decimals <= MAX_DECIMALS)) {
    throw new ConfigError(
      `${
        source("decimals")
      }: decimals must be a whole number from 0 to ${MAX_DECIMALS}, got "${decimalsText}"`,
    );
  }
  return { unit, decimals };
}

// Web wallet (issue 16)
/**
 * The web wallet's address: a loopback one only. Browsers run the wallet's cryptography
 * only over HTTPS or on localhost, so the way to the internet is a TLS reverse proxy on
 * this machine, which also holds slow and idle connections off the server.
 */
function httpAddress(text: string | undefined, where: string): ServerAddress | null {
  if (text === undefined || text === "" || text === "off") return null;
  if (!text.includes(":")) throw new ConfigError(`${where}: http is HOST:PORT, got "${text}"`);
  const http = address(text, where);
  if (http.host !== "localhost" && !/^127\.[0-9.]+$/.test(http.host)) {
    throw new ConfigError(
      `${where}: http must be a loopback address such as 127.0.0.1:8080, got "${text}"; ` +
        "serve the wallet to others through a TLS reverse proxy (see the README)",
    );
  }
  return http;
}

/** Checks a numeric setting's text against its range and stores it. */
function setNumber(limits: Partial<Limits>, name: string, text: string, where: string): void {
  const setting = NUMBER_SETTINGS[name];
  const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(value >= setting.min && value <= setting.max)) {
    throw new ConfigError(
      `${where}: ${name} must be a whole number from ${setting.min} to ${setting.max}, got "${text}"`,
    );
  }
  limits[setting.field] = value;
}

function address(text: string, where: string): ServerAddress {
  try {
    return parseServerAddress(text);
  } catch (error) {
    if (error instanceof NameError) throw new ConfigError(`${where}: ${error.message}`);
    throw error;
  }
}

/** The help lines of every setting, for `ripple serve --help`. */
export function settingsHelp(): string {
  return Object.entries(NUMBER_SETTINGS)
    .map(([name, s]) => `  ${name.padEnd(26)} ${s.help} (default ${DEFAULT_LIMITS[s.field]})`)
    .join("\n");
}
