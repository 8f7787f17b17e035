/** `ripple client`: every client command from the shell, human-readable or `--json`. */

import { parseKey } from "../auth/keys.ts";
import { Client } from "../client/client.ts";
import * as commands from "../client/commands.ts";
import { FileCounterStore } from "../client/counter_store.ts";
import {
  type AccountRef,
  formatAccountRef,
  isUsername,
  NameError,
  parseAccountRef,
  parseServerAddress,
} from "../wire/names.ts";
import { parseCommand, type Parsed, stringOption, UsageError } from "./args.ts";

const HELP =
  `Usage: ripple client --server ADDRESS --account NAME --key-file FILE [--json] COMMAND [ARGS]

Sends one command to the account's server and prints the answer.

Commands:
  set-trustline PEER AMOUNT    extend AMOUNT of credit to PEER (NAME@ADDRESS)
  get-trustline-out PEER       our trustline to PEER, and whether PEER's server has it
  get-trustline-in PEER        PEER's trustline to us
  sync-trustline-out PEER      send our trustline to PEER's server again now
  sync-trustline-in PEER       ask PEER's server to send its trustline again

Options:
  --server ADDRESS     the account's server, host or host:port (port 2012 if left out)
  --account NAME       the account
  --key-file FILE      file holding the account's client key (64 hex characters)
  --counter-file FILE  where the last counter used is kept (default: FILE.counter)
  --json               print the answer as JSON (amounts as strings)

Exit status: 0 on success, 1 when the server refuses or cannot be reached, 2 on a usage error.

Example:
  ripple client --server 127.0.0.2 --account alice --key-file alice.key set-trustline bob@127.0.0.3 100`;

const OPTIONS = {
  server: { type: "string" },
  account: { type: "string" },
  "key-file": { type: "string" },
  "counter-file": { type: "string" },
  json: { type: "boolean" },
} as const;

type Printer = (human: string, json: Record<string, unknown>) => void;

interface Subcommand {
  args: number;
  run(client: Client, args: string[], print: Printer): Promise<void>;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  "set-trustline": {
    args: 2,
    async run(client, [peerText, amountText], print) {
      const peer = peerArg(peerText);
      const amount = amountArg(amountText);
      await commands.setTrustline(client, peer, amount);
      print(
        `Trustline to ${
          formatAccountRef(peer)
        } set to ${amount}; it is sent to the peer's server now.`,
        {
          peer: formatAccountRef(peer),
          amount: amount.toString(),
        },
      );
    },
  },
  "get-trustline-out": {
    args: 1,
    async run(client, [peerText], print) {
      const peer = peerArg(peerText);
      const line = await commands.getTrustlineOut(client, peer);
      const synced = line.syncOut === line.counter;
      print(
        `Trustline to ${formatAccountRef(peer)}: ${line.amount} (change ${line.counter}, ` +
          `${
            synced
              ? "confirmed by the peer's server"
              : `peer's server confirmed change ${line.syncOut}`
          })`,
        {
          peer: formatAccountRef(peer),
          amount: line.amount.toString(),
          counter: line.counter,
          syncOut: line.syncOut,
          synced,
        },
      );
    },
  },
  "get-trustline-in": {
    args: 1,
    async run(client, [peerText], print) {
      const peer = peerArg(peerText);
      const line = await commands.getTrustlineIn(client, peer);
      const when = line.lastSync === 0
        ? "never synced"
        : `last synced ${new Date(line.lastSync * 1000).toISOString()}`;
      print(
        `Trustline from ${formatAccountRef(peer)}: ${line.amount} (change ${line.syncIn}, ${when})`,
        {
          peer: formatAccountRef(peer),
          amount: line.amount.toString(),
          syncIn: line.syncIn,
          lastSync: line.lastSync,
        },
      );
    },
  },
  "sync-trustline-out": {
    args: 1,
    async run(client, [peerText], print) {
      const peer = peerArg(peerText);
      await commands.syncTrustlineOut(client, peer);
      print(`Trustline to ${formatAccountRef(peer)} sent again.`, { peer: formatAccountRef(peer) });
    },
  },
  "sync-trustline-in": {
    args: 1,
    async run(client, [peerText], print) {
      const peer = peerArg(peerText);
      await commands.syncTrustlineIn(client, peer);
      print(`Asked ${formatAccountRef(peer)}'s server to send its trustline again.`, {
        peer: formatAccountRef(peer),
      });
    },
  },
};

/** Runs `ripple client ...`. */
export async function clientCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, OPTIONS, HELP, [1, 3]);
  if (parsed === null) return;
  const [name, ...args] = parsed.positionals;
  const subcommand = SUBCOMMANDS[name];
  if (subcommand === undefined) throw new UsageError(`unknown client command "${name}"`);
  if (args.length !== subcommand.args) {
    throw new UsageError(`${name} takes ${subcommand.args} argument(s)`);
  }
  const client = await openClient(parsed);
  const json = parsed.values.json === true;
  await subcommand.run(
    client,
    args,
    (human, fields) => console.log(json ? JSON.stringify(fields) : human),
  );
}

async function openClient(parsed: Parsed): Promise<Client> {
  const server = required(parsed, "server");
  const account = required(parsed, "account");
  const keyFile = required(parsed, "key-file");
  try {
    parseServerAddress(server);
  } catch (error) {
    if (error instanceof NameError) throw new UsageError(`--server: ${error.message}`);
    throw error;
  }
  if (!isUsername(account)) throw new UsageError(`--account: "${account}" is not a valid username`);
  let keyText: string;
  try {
    keyText = await Deno.readTextFile(keyFile);
  } catch (error) {
    throw new Error(
      `cannot read the key file ${keyFile}: ${error instanceof Error ? error.message : error}`,
    );
  }
  const counters = new FileCounterStore(stringOption(parsed, "counter-file", `${keyFile}.counter`));
  return new Client({ server, account, key: parseKey(keyText), counters });
}

function required(parsed: Parsed, name: string): string {
  const value = stringOption(parsed, name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

function peerArg(text: string): AccountRef {
  try {
    return parseAccountRef(text);
  } catch (error) {
    if (error instanceof NameError) throw new UsageError(`PEER: ${error.message}`);
    throw error;
  }
}

function amountArg(text: string): bigint {
  if (!/^[0-9]+$/.test(text) || BigInt(text) >= 1n << 64n) {
    throw new UsageError(`AMOUNT must be a whole number from 0 to ${(1n << 64n) - 1n}`);
  }
  return BigInt(text);
}
