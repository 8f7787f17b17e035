/** `ripple account add|list|remove`: the accounts of a server's datadir. */

import { generateKey, toHex } from "../auth/keys.ts";
import { AccountError, createAccount } from "../store/accounts.ts";
import { DenoFileSystem } from "../store/fs.ts";
import { accountDir, accountPath, ACCOUNTS_DIR, pendingPath } from "../store/paths.ts";
import { formatAccountRef, isUsername, USERNAME_RULES } from "../wire/names.ts";
import {
  DEFAULT_DATADIR,
  parseCommand,
  runVerb,
  stringOption,
  UsageError,
  type Verb,
  verbsHelp,
} from "./args.ts";
import { readDisplay } from "./config_file.ts";
import { moveAside, readDatadir, withStoppedServer } from "./datadir.ts";
import { readHoldings, wouldDrop } from "./holdings.ts";

const DATADIR_OPTION = `  --datadir DIR   the server's data directory (default ${DEFAULT_DATADIR})`;

const ADD_HELP = `Usage: ripple account add NAME [--datadir DIR]

Creates the account NAME on this server and prints its client key, 64 hex characters,
alone on standard output (the words around it go to standard error). Give the key to the
account's owner, who keeps it in a client profile:
  ripple account add alice | ripple profile add alice@SERVER
The server keeps its copy in DIR/ripple/accounts/NAME/secretkey.txt (mode 0600). Safe
while the server runs. Names: ${USERNAME_RULES}.

Options:
${DATADIR_OPTION}`;

const LIST_HELP = `Usage: ripple account list [--datadir DIR] [--json]

Lists the accounts of the datadir, with how many peers and payments in flight each has.
Reads the files without changing anything; safe while the server runs.

Options:
${DATADIR_OPTION}
  --json          print the list as JSON`;

const REMOVE_HELP = `Usage: ripple account remove NAME [--datadir DIR] [--force]

Removes the account NAME: its directory moves, in one step, to
DIR/ripple/removed/TIME/accounts/NAME, where it can be moved back (with the server stopped)
or deleted. Refuses while a server runs on DIR, and while the account has a balance that is
not even, an amount locked, or a payment in flight, unless --force. Its peers' servers keep
their side of the books: tell their operators.

Options:
${DATADIR_OPTION}
  --force         remove it even though it drops a balance, a lock or a payment in flight`;

const VERBS: Record<string, Verb> = {
  add: { summary: "create an account and print its client key", run: addAccount },
  list: { summary: "the accounts, with their peers and payments in flight", run: listAccounts },
  remove: { summary: "remove an account (moved aside, not deleted)", run: removeAccount },
};

const HELP = verbsHelp("account", "The accounts of a server's datadir.", VERBS);

/** Runs `ripple account ...`. */
export async function accountCommand(argv: string[]): Promise<void> {
  await runVerb("account", argv, VERBS, HELP);
}

async function addAccount(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, { datadir: { type: "string" } }, ADD_HELP, [1, 1]);
  if (parsed === null) return;
  const [name] = parsed.positionals;
  const datadir = stringOption(parsed, "datadir", DEFAULT_DATADIR);
  const key = generateKey();
  await createAccount(new DenoFileSystem(), `${datadir}/ripple`, usernameArg(name), key);
  console.error(`Created account ${name} in ${datadir}. Its client key (keep it secret):`);
  console.log(toHex(key));
}

async function listAccounts(argv: string[]): Promise<void> {
  const options = { datadir: { type: "string" }, json: { type: "boolean" } } as const;
  const parsed = parseCommand(argv, options, LIST_HELP, [0, 0]);
  if (parsed === null) return;
  const datadir = stringOption(parsed, "datadir", DEFAULT_DATADIR);
  const accounts = await readDatadir(datadir, async (tx) => {
    const all = [];
    for (const name of (await tx.list(ACCOUNTS_DIR)).filter(isUsername)) {
      const holdings = await readHoldings(tx, name);
      all.push({ name, peers: holdings.peers.length, paymentsInFlight: holdings.inFlight.length });
    }
    return all;
  });
  if (parsed.values.json === true) return console.log(JSON.stringify({ accounts }));
  console.log([
    `${accounts.length} account(s) in ${datadir}`,
    ...accounts.map((a) =>
      `${a.name}  ${a.peers} peer(s), ${a.paymentsInFlight} payment(s) in flight`
    ),
  ].join("\n"));
}

async function removeAccount(argv: string[]): Promise<void> {
  const options = { datadir: { type: "string" }, force: { type: "boolean" } } as const;
  const parsed = parseCommand(argv, options, REMOVE_HELP, [1, 1]);
  if (parsed === null) return;
  const name = usernameArg(parsed.positionals[0]);
  const datadir = stringOption(parsed, "datadir", DEFAULT_DATADIR);
  const display = await readDisplay(datadir);
  const { movedTo, peers, dropped } = await withStoppedServer(
    datadir,
    "account remove",
    async (tx) => {
      if ((await tx.get(accountPath(name, "secretkey.txt"))) === undefined) {
        throw new AccountError(`there is no account ${name} in ${datadir}`);
      }
      const holdings = await readHoldings(tx, name);
      const dropped = wouldDrop(holdings.peers, holdings.inFlight, display);
      if (dropped.length > 0 && parsed.values.force !== true) {
        throw new AccountError(
          `account ${name} still holds:\n${
            dropped.map((line) => `  - ${line}`).join("\n")
          }\nSettle these first, or give --force to remove it anyway.`,
        );
      }
      const movedTo = await moveAside(datadir, accountDir(name));
      await new DenoFileSystem().remove(`${datadir}/ripple/${pendingPath(name)}`);
      return { movedTo, peers: holdings.peers.map((p) => formatAccountRef(p.peer)), dropped };
    },
  );
  for (const line of dropped) console.error(`dropped: ${line}`);
  console.log(`Removed account ${name}; its files are in ${movedTo}.`);
  if (peers.length > 0) {
    console.log(`Tell the operators of its peers' servers: ${peers.join(", ")}.`);
  }
}

/** A username argument, or a usage error that gives the rules. */
export function usernameArg(name: string): string {
  if (!isUsername(name)) {
    throw new UsageError(`"${name}" is not a valid username: ${USERNAME_RULES}`);
  }
  return name;
}
