/** `ripple status`: what a datadir holds and what is in flight, read from the files (and journal) alone. */

import { formatAccountRef } from "../wire/names.ts";
import { DenoFileSystem } from "../store/fs.ts";
import { ACCOUNTS_DIR, listPeers, peerPath, PENDING_DIR } from "../store/paths.ts";
import { Store } from "../store/store.ts";
import { Tx } from "../store/tx.ts";
import { listPayments, readPayment } from "../payments/record.ts";
import { isUsername } from "../wire/names.ts";
import { DEFAULT_DATADIR, parseCommand, stringOption } from "./args.ts";

const HELP = `Usage: ripple status [--datadir DIR] [--json]

Shows what a server's datadir holds: accounts, peers, trustlines not yet confirmed by the
peer's server, payments in flight, and whether a server is running on it. Reads the files
and the journal without changing anything; safe while the server runs (the figures may
then be a moment old).

Options:
  --datadir DIR   data directory (default ${DEFAULT_DATADIR})
  --json          print the figures as JSON`;

/** The figures `ripple status` prints. */
export interface DatadirStatus {
  running: boolean;
  accounts: number;
  peers: number;
  unsyncedTrustlines: string[];
  paymentsInFlight: Record<string, number>;
  stuckPayments: string[];
  pendingAccounts: number;
}

const SHOWN = 20;

/** Runs `ripple status`. */
export async function statusCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(
    argv,
    { datadir: { type: "string" }, json: { type: "boolean" } },
    HELP,
    [0, 0],
  );
  if (parsed === null) return;
  const datadir = stringOption(parsed, "datadir", DEFAULT_DATADIR);
  try {
    await Deno.stat(`${datadir}/ripple`);
  } catch {
    throw new Error(`${datadir} holds no ripple data (no ${datadir}/ripple directory)`);
  }
  const status = await readStatus(datadir);
  if (parsed.values.json === true) return console.log(JSON.stringify(status));
  const inFlight = Object.entries(status.paymentsInFlight);
  const total = inFlight.reduce((sum, [, n]) => sum + n, 0);
  console.log([
    `datadir ${datadir}: server ${status.running ? "running" : "not running"}`,
    `accounts: ${status.accounts}, peers: ${status.peers}`,
    `trustlines not yet confirmed by the peer's server: ${status.unsyncedTrustlines.length}`,
    ...status.unsyncedTrustlines.slice(0, SHOWN).map((line) => `  ${line}`),
    `payments in flight: ${total}${
      total ? ` (${inFlight.map(([state, n]) => `${state} ${n}`).join(", ")})` : ""
    }`,
    ...status.stuckPayments.slice(0, SHOWN).map((line) => `  ${line}`),
    `outbox (datagrams owed to peers until they answer): ${
      status.unsyncedTrustlines.length + total
    }`,
    `accounts with resends or timers pending: ${status.pendingAccounts}`,
  ].join("\n"));
}

/** Gathers the status of a datadir without writing to it. */
export async function readStatus(datadir: string): Promise<DatadirStatus> {
  const store = await Store.open(new DenoFileSystem(), `${datadir}/ripple`, { readOnly: true });
  const tx = new Tx(store);
  const status: DatadirStatus = {
    running: await isLocked(`${datadir}/ripple/server.lock`),
    accounts: 0,
    peers: 0,
    unsyncedTrustlines: [],
    paymentsInFlight: {},
    stuckPayments: [],
    pendingAccounts: (await store.list(PENDING_DIR)).length,
  };
  for (const username of (await store.list(ACCOUNTS_DIR)).filter(isUsername)) {
    status.accounts++;
    for (const peer of await listPeers(tx, username)) {
      status.peers++;
      const counter = await tx.getNumber(peerPath(username, peer, "counter.txt"));
      const syncOut = await tx.getNumber(peerPath(username, peer, "sync_out.txt"));
      if (counter > syncOut) {
        status.unsyncedTrustlines.push(
          `${username} → ${formatAccountRef(peer)}: change ${counter}, confirmed ${syncOut}`,
        );
      }
    }
    for (const idHex of await listPayments(tx, username, false)) {
      const record = await readPayment(tx, username, idHex);
      if (record === undefined) continue;
      status.paymentsInFlight[record.state] = (status.paymentsInFlight[record.state] ?? 0) + 1;
      const age = Math.round((Date.now() - record.updatedAt) / 1000);
      status.stuckPayments.push(
        `${username} ${idHex} ${record.role} ${record.state} ${record.amount}, unchanged for ${age} s`,
      );
    }
  }
  await store.close();
  return status;
}

/** Whether a running server holds the datadir's lock. */
async function isLocked(path: string): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true });
  } catch {
    return false;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"held">((resolve) => timer = setTimeout(() => resolve("held"), 200));
  const outcome = await Promise.race([file.lock(true).then(() => "free" as const), timeout]);
  clearTimeout(timer);
  if (outcome === "free") await file.unlock();
  file.close();
  return outcome === "held";
}
