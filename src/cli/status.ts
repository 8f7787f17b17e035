/** `ripple status`: what a datadir holds and what is in flight, read from the files (and journal) alone. */

import { type DisplayUnit, formatAmount } from "../client/amounts.ts";
import { ACCOUNTS_DIR, peerPath, PENDING_DIR } from "../store/paths.ts";
import { formatAccountRef, isUsername } from "../wire/names.ts";
import { DEFAULT_DATADIR, parseCommand, stringOption, UsageError } from "./args.ts";
import { readDisplay } from "./config_file.ts";
import { mustHoldData, readDatadir, type ServerState, serverState } from "./datadir.ts";
import { readHoldings } from "./holdings.ts";
import { waitOf } from "../payments/deadlines.ts";
import { describeWait } from "./client_output.ts";

const HELP = `Usage: ripple status [--datadir DIR] [--json] [--wait SECONDS]

Shows what a server's datadir holds: whether a server is running on it and where it
listens, the accounts and their peers, trustlines not yet confirmed by the peer's server,
and payments in flight. Reads the files and the journal without changing anything; safe
while the server runs (the figures may then be a moment old).

Options:
  --datadir DIR     data directory (default ${DEFAULT_DATADIR})
  --json            print everything as JSON (every account and peer, not only the first)
  --wait SECONDS    first wait up to SECONDS for a server to listen on DIR; exit status 1
                    if none does (for scripts that start a server in the background)`;

/** One account as `ripple status` shows it. */
export interface AccountStatus {
  name: string;
  peers: string[];
  paymentsInFlight: number;
}

/** The figures `ripple status` prints. */
export interface DatadirStatus {
  running: boolean;
  /** Where the running server listens, `host:port`. */
  listen?: string;
  pid?: number;
  accounts: AccountStatus[];
  unsyncedTrustlines: string[];
  paymentsInFlight: Record<string, number>;
  stuckPayments: string[];
  /** Payments past their deadline or claim time (docs/protocol.md §9). */
  overduePayments: number;
  pendingAccounts: number;
}

const SHOWN = 20;

/** The sections of the human output, in order; each gives its lines. */
const SECTIONS: ((status: DatadirStatus) => string[])[] = [
  accountsSection,
  (status) => [
    `trustlines not yet confirmed by the peer's server: ${status.unsyncedTrustlines.length}`,
    ...shown(status.unsyncedTrustlines),
  ],
  paymentsSection,
  (status) => [
    `outbox (datagrams owed to peers until they answer): ${
      status.unsyncedTrustlines.length + inFlightTotal(status)
    }`,
    `accounts with resends or timers pending: ${status.pendingAccounts}`,
  ],
];

/** Runs `ripple status`. */
export async function statusCommand(argv: string[]): Promise<void> {
  const options = {
    datadir: { type: "string" },
    json: { type: "boolean" },
    wait: { type: "string" },
  } as const;
  const parsed = parseCommand(argv, options, HELP, [0, 0]);
  if (parsed === null) return;
  const datadir = stringOption(parsed, "datadir", DEFAULT_DATADIR);
  const wait = stringOption(parsed, "wait");
  if (wait !== undefined) await waitForServer(datadir, seconds(wait));
  await mustHoldData(datadir);
  const status = await readStatus(datadir, await readDisplay(datadir));
  if (parsed.values.json === true) return console.log(JSON.stringify(status));
  console.log([
    `datadir ${datadir}: ${serverLine(status)}`,
    ...SECTIONS.flatMap((section) => section(status)),
  ].join("\n"));
}

/** Gathers the status of a datadir without writing to it. */
export async function readStatus(datadir: string, display: DisplayUnit): Promise<DatadirStatus> {
  const server = await serverState(datadir);
  return await readDatadir(datadir, async (tx) => {
    const status: DatadirStatus = {
      ...server,
      accounts: [],
      unsyncedTrustlines: [],
      paymentsInFlight: {},
      stuckPayments: [],
      overduePayments: 0,
      pendingAccounts: (await tx.list(PENDING_DIR)).length,
    };
    for (const username of (await tx.list(ACCOUNTS_DIR)).filter(isUsername)) {
      const holdings = await readHoldings(tx, username);
      status.accounts.push({
        name: username,
        peers: holdings.peers.map(({ peer }) => formatAccountRef(peer)),
        paymentsInFlight: holdings.inFlight.length,
      });
      for (const { peer } of holdings.peers) {
        const counter = await tx.getNumber(peerPath(username, peer, "counter.txt"));
        const syncOut = await tx.getNumber(peerPath(username, peer, "sync_out.txt"));
        if (counter > syncOut) {
          status.unsyncedTrustlines.push(
            `${username} → ${formatAccountRef(peer)}: change ${counter}, confirmed ${syncOut}`,
          );
        }
      }
      for (const record of holdings.inFlight) {
        status.paymentsInFlight[record.state] = (status.paymentsInFlight[record.state] ?? 0) + 1;
        const age = Math.round((Date.now() - record.updatedAt) / 1000);
        const wait = waitOf(record, Date.now());
        status.stuckPayments.push(
          `${username} ${record.idHex} ${record.role} ${record.state} ${
            formatAmount(record.amount, display)
          }, unchanged for ${age} s${
            wait === null ? "" : `; ${describeWait(wait, record.amount, display)}`
          }`,
        );
        if (wait?.overdue) status.overduePayments++;
      }
    }
    return status;
  });
}

function serverLine(status: DatadirStatus): string {
  if (!status.running) return "server not running";
  const where = status.listen === undefined ? "starting" : `listening on ${status.listen}`;
  return `server running (${status.pid === undefined ? "" : `pid ${status.pid}, `}${where})`;
}

function accountsSection(status: DatadirStatus): string[] {
  const peers = status.accounts.reduce((sum, account) => sum + account.peers.length, 0);
  return [
    `accounts: ${status.accounts.length}, peers: ${peers}`,
    ...shown(
      status.accounts.map((account) =>
        `${account.name}: ${account.peers.length ? account.peers.join(", ") : "no peers"}`
      ),
      "ripple account list",
    ),
  ];
}

function paymentsSection(status: DatadirStatus): string[] {
  const total = inFlightTotal(status);
  const states = Object.entries(status.paymentsInFlight).map(([state, n]) => `${state} ${n}`);
  const overdue = status.overduePayments ? `, ${status.overduePayments} overdue` : "";
  return [
    `payments in flight: ${total}${total ? ` (${states.join(", ")})` : ""}${overdue}`,
    ...shown(status.stuckPayments),
  ];
}

function inFlightTotal(status: DatadirStatus): number {
  return Object.values(status.paymentsInFlight).reduce((sum, n) => sum + n, 0);
}

/** The first lines of a list, indented, and how many more there are. */
function shown(lines: string[], more = "--json"): string[] {
  const rest = lines.length - SHOWN;
  return [
    ...lines.slice(0, SHOWN).map((line) => `  ${line}`),
    ...(rest > 0 ? [`  … and ${rest} more (${more})`] : []),
  ];
}

function seconds(text: string): number {
  const value = Number(text);
  if (!(value > 0)) throw new UsageError("--wait is a number of seconds greater than 0");
  return value;
}

async function waitForServer(datadir: string, timeoutSeconds: number): Promise<ServerState> {
  const end = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const state = await serverState(datadir);
    if (state.listen !== undefined) return state;
    if (Date.now() >= end) {
      throw new Error(`no server listens on ${datadir} after ${timeoutSeconds} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
