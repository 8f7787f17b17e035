/** `ripple account add` and `ripple peer add`: set up accounts and peers in a datadir. */

import { generateKey, KeyError, parseKey, toHex } from "../auth/keys.ts";
import { addPeer, createAccount } from "../store/accounts.ts";
import { DenoFileSystem } from "../store/fs.ts";
import { formatAccountRef, isUsername, NameError, parseAccountRef } from "../wire/names.ts";
import { DEFAULT_DATADIR, parseCommand, stringOption, UsageError } from "./args.ts";

const ACCOUNT_HELP = `Usage: ripple account add NAME [--datadir DIR]

Creates the account NAME on this server and prints its client key: 64 hex characters,
alone on the last line. Give the key to the account's owner for their client; it is also
kept in DIR/ripple/accounts/NAME/secretkey.txt (mode 0600).

Options:
  --datadir DIR   the server's data directory (default ${DEFAULT_DATADIR})

Example:
  ripple account add alice --datadir ./data`;

const PEER_HELP =
  `Usage: ripple peer add NAME PEER_NAME@PEER_ADDRESS (--key HEX | --generate) [--datadir DIR]

Records PEER_NAME@PEER_ADDRESS as a peer of the local account NAME, with the secret key
the two accounts share. One side generates the key (--generate prints it, alone on the
last line); the other side's operator adds the same key with --key.

Options:
  --key HEX       the shared key, 64 hex characters, as the other side generated it
  --generate      make a new random key and print it
  --datadir DIR   the server's data directory (default ${DEFAULT_DATADIR})

Example:
  ripple peer add alice bob@127.0.0.3 --generate --datadir ./data-a
  ripple peer add bob alice@127.0.0.2 --key <the key printed above> --datadir ./data-b`;

/** Runs `ripple account ...`. */
export async function accountCommand(argv: string[]): Promise<void> {
  if (argv[0] !== "add") {
    if (argv.includes("--help") || argv.length === 0) return console.log(ACCOUNT_HELP);
    throw new UsageError(`unknown account subcommand "${argv[0]}"`);
  }
  const parsed = parseCommand(argv.slice(1), { datadir: { type: "string" } }, ACCOUNT_HELP, [1, 1]);
  if (parsed === null) return;
  const [name] = parsed.positionals;
  if (!isUsername(name)) {
    throw new UsageError(
      `"${name}" is not a valid username: use 1-32 of a-z 0-9 _ - . (not starting with .)`,
    );
  }
  const datadir = stringOption(parsed, "datadir", DEFAULT_DATADIR);
  const key = generateKey();
  await createAccount(new DenoFileSystem(), `${datadir}/ripple`, name, key);
  console.log(`Created account ${name} in ${datadir}. Its client key (keep it secret):`);
  console.log(toHex(key));
}

/** Runs `ripple peer ...`. */
export async function peerCommand(argv: string[]): Promise<void> {
  if (argv[0] !== "add") {
    if (argv.includes("--help") || argv.length === 0) return console.log(PEER_HELP);
    throw new UsageError(`unknown peer subcommand "${argv[0]}"`);
  }
  const options = {
    datadir: { type: "string" },
    key: { type: "string" },
    generate: { type: "boolean" },
  } as const;
  const parsed = parseCommand(argv.slice(1), options, PEER_HELP, [2, 2]);
  if (parsed === null) return;
  const [name, peerText] = parsed.positionals;
  if (!isUsername(name)) throw new UsageError(`"${name}" is not a valid username`);
  let peer;
  try {
    peer = parseAccountRef(peerText);
  } catch (error) {
    if (error instanceof NameError) throw new UsageError(error.message);
    throw error;
  }
  const keyText = stringOption(parsed, "key");
  if ((keyText === undefined) === (parsed.values.generate !== true)) {
    throw new UsageError("give exactly one of --key HEX and --generate");
  }
  let key;
  try {
    key = keyText === undefined ? generateKey() : parseKey(keyText);
  } catch (error) {
    if (error instanceof KeyError) throw new UsageError(`--key: ${error.message}`);
    throw error;
  }
  const datadir = stringOption(parsed, "datadir", DEFAULT_DATADIR);
  await addPeer(new DenoFileSystem(), `${datadir}/ripple`, name, peer, key);
  if (keyText === undefined) {
    console.log(
      `${
        formatAccountRef(peer)
      } is now a peer of ${name}. The shared key (give it to the peer's operator):`,
    );
    console.log(toHex(key));
  } else {
    console.log(`${formatAccountRef(peer)} is now a peer of ${name}.`);
  }
}
