/** `ripple profile add|list|use|remove`: the accounts this client acts as. */

import { KeyError, parseKey } from "../auth/keys.ts";
import { concatBytes } from "../wire/layout.ts";
import { NameError, parseAccountRef } from "../wire/names.ts";
import { parseCommand, runVerb, stringOption, UsageError, type Verb, verbsHelp } from "./args.ts";
import { readKeyFile } from "./client.ts";
import {
  clientHome,
  defaultProfile,
  listProfiles,
  loadProfile,
  ProfileError,
  removeProfile,
  saveProfile,
  setDefaultProfile,
} from "./profile.ts";

const WHERE = `Profiles live in $XDG_CONFIG_HOME/ripple/profiles, else ~/.config/ripple/profiles,
one file each (mode 0600: it holds the key); the counters of every account are beside
them, in counters/.`;

const ADD_HELP = `Usage: ripple profile add ACCOUNT@SERVER [--name NAME] [--key-file FILE] [--force]

Saves a profile for the account ACCOUNT on the server SERVER (host or host:port, where the
client connects). The account's client key, as "ripple account add" printed it, is read
from FILE, or else from standard input (pasted, or piped from account add). The first
profile becomes the default one.

Options:
  --name NAME      the profile's name (default: the account's name)
  --key-file FILE  read the client key from FILE instead of standard input
  --force          replace a profile of the same name

${WHERE}

Examples:
  ripple account add alice --datadir a | ripple profile add alice@127.0.0.2
  ripple profile add alice@ripple.example.org --key-file alice.key`;

const LIST_HELP = `Usage: ripple profile list [--json]

Lists the profiles; the one used when none is named is marked with *.

${WHERE}`;

const USE_HELP = `Usage: ripple profile use NAME

Makes NAME the profile "ripple client" uses when neither --profile nor RIPPLE_PROFILE
names one.`;

const REMOVE_HELP = `Usage: ripple profile remove NAME

Deletes the profile NAME (its key too: keep a copy if you still need it).`;

const VERBS: Record<string, Verb> = {
  add: { summary: "save an account, its server and its client key", run: addProfile },
  list: { summary: "the profiles, and which is the default", run: listCommand },
  use: { summary: "choose the profile used when none is named", run: useProfile },
  remove: { summary: "delete a profile", run: removeCommand },
};

const HELP = verbsHelp(
  "profile",
  `The accounts this client acts as. With a profile, "ripple client --profile NAME COMMAND"
(or just "ripple client COMMAND" for the default profile) needs no --server, --account
or --key-file.\n\n${WHERE}`,
  VERBS,
);

/** Runs `ripple profile ...`. */
export async function profileCommand(argv: string[]): Promise<void> {
  await runVerb("profile", argv, VERBS, HELP);
}

async function addProfile(argv: string[]): Promise<void> {
  const options = {
    name: { type: "string" },
    "key-file": { type: "string" },
    force: { type: "boolean" },
  } as const;
  const parsed = parseCommand(argv, options, ADD_HELP, [1, 1]);
  if (parsed === null) return;
  let ref;
  try {
    ref = parseAccountRef(parsed.positionals[0]);
  } catch (error) {
    if (error instanceof NameError) throw new UsageError(`ACCOUNT@SERVER: ${error.message}`);
    throw error;
  }
  const name = stringOption(parsed, "name", ref.username);
  const keyFile = stringOption(parsed, "key-file");
  const key = keyFile === undefined
    ? await readKeyFromStdin(parsed.positionals[0])
    : await readKeyFile(keyFile);
  const home = clientHome();
  const first = (await defaultProfile(home)) === undefined;
  await saveProfile(
    home,
    { name, server: ref.address, account: ref.username, key },
    parsed.values.force === true,
  );
  if (first) await setDefaultProfile(home, name);
  console.log(
    `Profile ${name}: ${ref.username} on ${ref.address}${first ? " (the default)" : ""}.`,
  );
}

async function readKeyFromStdin(account: string): Promise<Uint8Array> {
  if (Deno.stdin.isTerminal()) {
    console.error(`Paste the client key of ${account} (64 hex characters) and press Enter:`);
  }
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of Deno.stdin.readable) {
    chunks.push(chunk);
    length += chunk.length;
    if (chunk.includes(10) || length > 1024) break;
  }
  const text = new TextDecoder().decode(concatBytes(chunks)).trim();
  if (text === "") {
    throw new ProfileError(
      "no client key on standard input (did the command that should print it, e.g. ripple account add, fail?)",
    );
  }
  try {
    return parseKey(text.split("\n")[0]);
  } catch (error) {
    if (error instanceof KeyError) {
      throw new ProfileError(`the client key on standard input: ${error.message}`);
    }
    throw error;
  }
}

async function listCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, { json: { type: "boolean" } }, LIST_HELP, [0, 0]);
  if (parsed === null) return;
  const home = clientHome();
  const chosen = await defaultProfile(home);
  const profiles = [];
  for (const name of await listProfiles(home)) {
    const profile = await loadProfile(home, name);
    profiles.push({
      name,
      account: profile.account,
      server: profile.server,
      default: name === chosen,
    });
  }
  if (parsed.values.json === true) return console.log(JSON.stringify({ profiles }));
  if (profiles.length === 0) {
    return console.log("No profiles yet: ripple profile add ACCOUNT@SERVER");
  }
  console.log(
    profiles.map((p) => `${p.default ? "*" : " "} ${p.name}  ${p.account} on ${p.server}`).join(
      "\n",
    ),
  );
}

async function useProfile(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, {}, USE_HELP, [1, 1]);
  if (parsed === null) return;
  const home = clientHome();
  await setDefaultProfile(home, parsed.positionals[0]);
  const profile = await loadProfile(home, parsed.positionals[0]);
  console.log(
    `Profile ${profile.name} (${profile.account} on ${profile.server}) is now the default.`,
  );
}

async function removeCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, {}, REMOVE_HELP, [1, 1]);
  if (parsed === null) return;
  await removeProfile(clientHome(), parsed.positionals[0]);
  console.log(`Removed profile ${parsed.positionals[0]}.`);
}
