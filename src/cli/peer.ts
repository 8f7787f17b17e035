/** `ripple peer add|list|remove|rekey`: the peers of an account, and the keys they share. */

import { generateKey, KeyError, parseKey, toHex } from "../auth/keys.ts";
import { AccountError, addPeer } from "../store/accounts.ts";
import { DenoFileSystem } from "../store/fs.ts";
import type { Tx } from "../store/tx.ts";
import { accountPath, peerDir, peerPath } from "../store/paths.ts";
import {
  type AccountRef,
  formatAccountRef,
  NameError,
  parseAccountRef,
  sameAccount,
} from "../wire/names.ts";
import {
  DEFAULT_DATADIR,
  parseCommand,
  type Parsed,
  runVerb,
  stringOption,
  UsageError,
  type Verb,
  verbsHelp,
} from "./args.ts";
import { usernameArg } from "./account.ts";
import { readDisplay } from "./config_file.ts";
import { moveAside, readDatadir, withStoppedServer } from "./datadir.ts";
import { booksJson, booksLine, involves, readHoldings, wouldDrop } from "./holdings.ts";

const DATADIR_OPTION = `  --datadir DIR   the server's data directory (default ${DEFAULT_DATADIR})`;

const KEY_OPTIONS =
  `  --key HEX       the shared key, 64 hex characters, as the other side generated it
  --generate      make a new random key and print it alone on standard output`;

const ADD_HELP =
  `Usage: ripple peer add NAME PEER_NAME@PEER_ADDRESS (--key HEX | --generate) [--datadir DIR]

Records PEER_NAME@PEER_ADDRESS as a peer of the local account NAME, with the secret key
the two accounts share. One side generates the key (--generate prints it alone on
standard output, the words around it on standard error); the other side's operator adds
the same key with --key. Safe while the server runs.

Options:
${KEY_OPTIONS}
${DATADIR_OPTION}

Example:
  KEY=$(ripple peer add alice bob@127.0.0.3 --generate --datadir ./data-a)
  ripple peer add bob alice@127.0.0.2 --key "$KEY" --datadir ./data-b`;

const LIST_HELP = `Usage: ripple peer list NAME [--datadir DIR] [--json]

Lists the peers of the local account NAME with who owes whom, the credit each side
extends and the amounts locked by payments in flight. Reads the files without changing
anything; safe while the server runs.

Options:
${DATADIR_OPTION}
  --json          print the list as JSON (balance: what the peer owes us, negative if we owe)`;

const REMOVE_HELP = `Usage: ripple peer remove NAME PEER_NAME@PEER_ADDRESS [--datadir DIR] [--force]

Removes the peer from the local account NAME: the peer's directory moves, in one step, to
DIR/ripple/removed/TIME/..., where it can be moved back (with the server stopped) or
deleted. Refuses while a server runs on DIR, and while the balance with the peer is not
even, an amount is locked with it, or a payment in flight runs through it, unless --force.
The peer's server keeps its side: tell its operator.

Options:
${DATADIR_OPTION}
  --force         remove it even though it drops a balance, a lock or a payment in flight`;

const REKEY_HELP =
  `Usage: ripple peer rekey NAME PEER_NAME@PEER_ADDRESS (--key HEX | --generate) [--datadir DIR] [--force]

Replaces the key the local account NAME shares with the peer, as peer add made it: one
side generates a new key, the other side's operator rekeys with --key. Until both sides
have the new key their servers refuse each other's datagrams (and resend them later).
Refuses while a server runs on DIR, and while a payment in flight runs through the peer,
unless --force.

Options:
${KEY_OPTIONS}
${DATADIR_OPTION}
  --force         rekey even though a payment in flight runs through the peer`;

const VERBS: Record<string, Verb> = {
  add: { summary: "record a peer with the key the two accounts share", run: addPeerCommand },
  list: { summary: "the peers of an account, with their books", run: listPeersCommand },
  remove: { summary: "remove a peer (moved aside, not deleted)", run: removePeerCommand },
  rekey: { summary: "replace the key shared with a peer", run: rekeyPeerCommand },
};

const HELP = verbsHelp("peer", "The peers of an account, and the keys they share.", VERBS);

/** Runs `ripple peer ...`. */
export async function peerCommand(argv: string[]): Promise<void> {
  await runVerb("peer", argv, VERBS, HELP);
}

const DATADIR = { datadir: { type: "string" } } as const;
const KEY = { key: { type: "string" }, generate: { type: "boolean" } } as const;
const FORCE = { force: { type: "boolean" } } as const;

async function addPeerCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, { ...DATADIR, ...KEY }, ADD_HELP, [2, 2]);
  if (parsed === null) return;
  const [name, peer] = accountAndPeer(parsed);
  const key = keyArg(parsed);
  const dir = stringOption(parsed, "datadir", DEFAULT_DATADIR);
  await addPeer(new DenoFileSystem(), `${dir}/ripple`, name, peer, key.bytes);
  announceKey(`${formatAccountRef(peer)} is now a peer of ${name}.`, key);
}

async function listPeersCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, { ...DATADIR, json: { type: "boolean" } }, LIST_HELP, [1, 1]);
  if (parsed === null) return;
  const name = usernameArg(parsed.positionals[0]);
  const datadir = stringOption(parsed, "datadir", DEFAULT_DATADIR);
  const display = await readDisplay(datadir);
  const holdings = await readDatadir(datadir, async (tx) => {
    if ((await tx.get(accountPath(name, "secretkey.txt"))) === undefined) {
      throw new AccountError(`there is no account ${name} in ${datadir}`);
    }
    return await readHoldings(tx, name);
  });
  if (parsed.values.json === true) {
    return console.log(JSON.stringify({
      account: name,
      peers: holdings.peers.map((holding) => booksJson(holding, display)),
    }));
  }
  console.log([
    `${holdings.peers.length} peer(s) of ${name}`,
    ...holdings.peers.map((holding) => booksLine(holding, display)),
  ].join("\n"));
}

async function removePeerCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, { ...DATADIR, ...FORCE }, REMOVE_HELP, [2, 2]);
  if (parsed === null) return;
  const [name, peer] = accountAndPeer(parsed);
  const datadir = stringOption(parsed, "datadir", DEFAULT_DATADIR);
  const display = await readDisplay(datadir);
  const { movedTo, dropped } = await withStoppedServer(datadir, "peer remove", async (tx) => {
    const { holding, inFlight } = await peerHolding(tx, name, peer);
    const dropped = wouldDrop([holding], inFlight, display);
    refuseUnlessForced(parsed, `${formatAccountRef(peer)} still holds with ${name}`, dropped);
    return { movedTo: await moveAside(datadir, peerDir(name, peer)), dropped };
  });
  for (const line of dropped) console.error(`dropped: ${line}`);
  console.log(
    `${
      formatAccountRef(peer)
    } is no longer a peer of ${name}; its files are in ${movedTo}. Tell its server's operator.`,
  );
}

async function rekeyPeerCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, { ...DATADIR, ...KEY, ...FORCE }, REKEY_HELP, [2, 2]);
  if (parsed === null) return;
  const [name, peer] = accountAndPeer(parsed);
  const key = keyArg(parsed);
  const datadir = stringOption(parsed, "datadir", DEFAULT_DATADIR);
  const display = await readDisplay(datadir);
  await withStoppedServer(datadir, "peer rekey", async (tx) => {
    const { inFlight } = await peerHolding(tx, name, peer);
    refuseUnlessForced(
      parsed,
      `${formatAccountRef(peer)} has payments in flight with ${name}`,
      wouldDrop([], inFlight, display),
    );
    tx.set(peerPath(name, peer, "secretkey.txt"), `${toHex(key.bytes)}\n`);
  });
  announceKey(`${name} and ${formatAccountRef(peer)} have a new shared key.`, key);
}

/** The peer's books and the payments in flight through it; throws if it is not a peer. */
async function peerHolding(tx: Tx, name: string, peer: AccountRef) {
  if ((await tx.get(peerPath(name, peer, "secretkey.txt"))) === undefined) {
    throw new AccountError(`${formatAccountRef(peer)} is not a peer of ${name}`);
  }
  const holdings = await readHoldings(tx, name);
  const holding = holdings.peers.find((p) => sameAccount(p.peer, peer))!;
  return { holding, inFlight: holdings.inFlight.filter((record) => involves(record, peer)) };
}

function refuseUnlessForced(parsed: Parsed, what: string, dropped: string[]): void {
  if (dropped.length === 0 || parsed.values.force === true) return;
  throw new AccountError(
    `${what}:\n${
      dropped.map((line) => `  - ${line}`).join("\n")
    }\nSettle these first, or give --force to go ahead anyway.`,
  );
}

function accountAndPeer(parsed: Parsed): [string, AccountRef] {
  const [name, peerText] = parsed.positionals;
  try {
    return [usernameArg(name), parseAccountRef(peerText)];
  } catch (error) {
    if (error instanceof NameError) throw new UsageError(`PEER: ${error.message}`);
    throw error;
  }
}

interface KeyArg {
  bytes: Uint8Array;
  generated: boolean;
}

function keyArg(parsed: Parsed): KeyArg {
  const keyText = stringOption(parsed, "key");
  if ((keyText === undefined) === (parsed.values.generate !== true)) {
    throw new UsageError("give exactly one of --key HEX and --generate");
  }
  if (keyText === undefined) return { bytes: generateKey(), generated: true };
  if (keyText.trim() === "") {
    throw new UsageError(
      "--key is empty: did the command that should have printed the key (peer add --generate) fail?",
    );
  }
  try {
    return { bytes: parseKey(keyText), generated: false };
  } catch (error) {
    if (error instanceof KeyError) throw new UsageError(`--key: ${error.message}`);
    throw error;
  }
}

/** Prints what happened on stderr and a generated key alone on stdout, for `KEY=$(...)`. */
function announceKey(done: string, key: KeyArg): void {
  if (!key.generated) return console.log(done);
  console.error(`${done} The shared key (give it to the peer's operator):`);
  console.log(toHex(key.bytes));
}
