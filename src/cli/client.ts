/** `ripple client`: every client command from the shell, as a profile's account or with explicit flags. */

import { KeyError, parseKey } from "../auth/keys.ts";
import type { DisplayUnit } from "../client/amounts.ts";
import { AuthenticationError, Client, ClientError } from "../client/client.ts";
import { serverInfo } from "../client/commands.ts";
import { FileCounterStore } from "../client/counter_store.ts";
import { tcpExchange } from "../client/tcp_exchange.ts";
import { canonicalAddress, isUsername, NameError, USERNAME_RULES } from "../wire/names.ts";
import { Status } from "../wire/response.ts";
import {
  firstPositional,
  parseCommand,
  type Parsed,
  stringOption,
  UsageError,
  wantsHelp,
} from "./args.ts";
import { type Call, type Subcommand, SUBCOMMANDS } from "./client_commands.ts";
import { chooseProfile, clientHome, counterPath, type Profile } from "./profile.ts";

const CONNECTION = `Which account:
  --profile NAME       a profile (see "ripple profile --help"); by default the one
                       RIPPLE_PROFILE names, else the one "ripple profile use" chose,
                       else the only one
or, without a profile, all three of
  --server ADDRESS     the account's server, host or host:port (port 2012 if left out)
  --account NAME       the account
  --key-file FILE      file holding the account's client key (64 hex characters)
and
  --counter-file FILE  where the last counter used is kept (default: in the client's
                       directory, ~/.config/ripple/counters/ACCOUNT@SERVER)`;

const HELP = `Usage: ripple client [--profile NAME] [--json] COMMAND [ARGS]
       ripple client --server ADDRESS --account NAME --key-file FILE [--json] COMMAND [ARGS]

Sends one command to the account's server and prints the answer. Amounts are read and
shown in the server's display unit (see the info command).

Commands:
${Object.entries(SUBCOMMANDS).map(([, c]) => `  ${c.usage.padEnd(40)} ${c.summary}`).join("\n")}

${CONNECTION}

Options:
  --json               print the answer as JSON (amounts as decimal strings)

Exit status: 0 on success, 1 when the server refuses or cannot be reached or the payment
failed, 2 on a usage error. "ripple client COMMAND --help" tells more about each command.

Examples:
  ripple client set-trustline bob@127.0.0.3 100
  ripple client --profile carol receive alice@127.0.0.2 25
  ripple client --profile alice pay carol@127.0.0.4 25 --id ID --wait`;

const OPTIONS = {
  profile: { type: "string" },
  server: { type: "string" },
  account: { type: "string" },
  "key-file": { type: "string" },
  "counter-file": { type: "string" },
  json: { type: "boolean" },
  id: { type: "string" },
  label: { type: "string" },
  receipt: { type: "boolean" },
  wait: { type: "boolean" },
  timeout: { type: "string" },
  offset: { type: "string" },
} as const;

/** Runs `ripple client ...`. */
export async function clientCommand(argv: string[]): Promise<void> {
  const topic = firstPositional(argv, OPTIONS);
  const chosen = topic === undefined ? undefined : SUBCOMMANDS[topic];
  if (wantsHelp(argv) && chosen !== undefined) return console.log(subcommandHelp(chosen));
  const parsed = parseCommand(argv, OPTIONS, HELP, [1, 3]);
  if (parsed === null) return;
  const [name, ...args] = parsed.positionals;
  const subcommand = SUBCOMMANDS[name];
  if (subcommand === undefined) throw new UsageError(`unknown client command "${name}"`);
  try {
    await runSubcommand(parsed, subcommand, args);
  } catch (error) {
    if (error instanceof UsageError && error.topic === undefined) {
      throw new UsageError(error.message, `client ${name}`);
    }
    throw error;
  }
}

async function runSubcommand(parsed: Parsed, subcommand: Subcommand, args: string[]) {
  if (args.length !== subcommand.args) {
    throw new UsageError(`takes ${subcommand.args} argument(s): ${subcommand.usage}`);
  }
  const timeout = Number(stringOption(parsed, "timeout", "60"));
  const offset = Number(stringOption(parsed, "offset", "0"));
  if (!(timeout > 0)) throw new UsageError("--timeout is a number of seconds greater than 0");
  if (!Number.isInteger(offset) || offset < 0) throw new UsageError("--offset is a whole number");
  const { client, server } = await openClient(parsed);
  const json = parsed.values.json === true;
  let display: Promise<DisplayUnit> | undefined;
  const call: Call = {
    client,
    args,
    print: (human, fields) => console.log(json ? JSON.stringify(fields) : human),
    note: (text) => {
      if (!json) console.error(text);
    },
    options: {
      id: stringOption(parsed, "id"),
      label: stringOption(parsed, "label"),
      receipt: parsed.values.receipt === true,
      wait: parsed.values.wait === true,
      timeoutMs: timeout * 1000,
      offset,
    },
    display: () => display ??= serverInfo(client).then((info) => info.display),
  };
  let ok: boolean;
  try {
    ok = await subcommand.run(call);
  } catch (error) {
    throw explain(error, server);
  }
  if (!ok) throw new ClientFailure();
}

function subcommandHelp(subcommand: Subcommand): string {
  return `Usage: ripple client [--profile NAME] [--json] ${subcommand.usage}

${subcommand.help}

${CONNECTION}

Amounts are in the server's display unit; --json prints them as decimal strings.`;
}

const HINTS: Record<number, string> = {
  [Status.Malformed]:
    "the server did not understand the request; are the client and server the same version?",
  [Status.Unauthorized]:
    "check the account and its key: the key is the one `ripple account add` printed",
  [Status.Replay]: "the counter file is behind the server's; run the command again",
  [Status.UnknownPeer]: "the server's operator adds peers with `ripple peer add`",
  [Status.Busy]: "the server is busy with this account; try again in a moment",
  [Status.InternalError]: "the server failed; its log says why",
};

/** Adds what to do next to a client error. */
function explain(error: unknown, server: string): Error {
  if (error instanceof ClientError) {
    const hint = HINTS[error.status];
    return new Error(hint ? `${error.message} (${hint})` : error.message);
  }
  if (error instanceof Deno.errors.ConnectionRefused) {
    return new Error(
      `nothing is listening at ${server}: is the server running, and is the server address right?`,
    );
  }
  if (error instanceof Deno.errors.TimedOut) {
    return new Error(
      `the server at ${server} did not answer in time; it may be overloaded or unreachable`,
    );
  }
  if (error instanceof AuthenticationError) {
    return new Error(
      `${error.message}: the server holds another key for this account, or something on the way altered the answer`,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** The command went through but its outcome is a failure (a failed payment): exit status 1. */
export class ClientFailure extends Error {
  override name = "ClientFailure";
  constructor() {
    super("");
  }
}

const EXPLICIT = ["server", "account", "key-file"] as const;
/** How long one exchange with the server may take. */
const CLIENT_TIMEOUT_MS = 10_000;

async function openClient(parsed: Parsed): Promise<{ client: Client; server: string }> {
  const profile = await connection(parsed);
  const counterFile = stringOption(parsed, "counter-file") ??
    counterPath(clientHome(), profile.account, canonicalAddress(profile.server));
  return {
    client: new Client({
      server: profile.server,
      account: profile.account,
      key: profile.key,
      counters: new FileCounterStore(counterFile),
      exchange: tcpExchange(CLIENT_TIMEOUT_MS),
    }),
    server: profile.server,
  };
}

/** The account to act as: from all of --server, --account and --key-file, or from a profile. */
async function connection(parsed: Parsed): Promise<Omit<Profile, "name">> {
  const given = EXPLICIT.filter((name) => parsed.values[name] !== undefined);
  const profileFlag = stringOption(parsed, "profile");
  if (given.length === 0) return await chooseProfile(clientHome(), profileFlag);
  if (profileFlag !== undefined) {
    throw new UsageError(`give --profile or --${given[0]}, not both`);
  }
  const missing = EXPLICIT.filter((name) => parsed.values[name] === undefined);
  if (missing.length > 0) {
    throw new UsageError(
      `--${missing[0]} is required with --${given[0]} (or use a profile instead of all three)`,
    );
  }
  const [server, account, keyFile] = EXPLICIT.map((name) => stringOption(parsed, name)!);
  try {
    canonicalAddress(server);
  } catch (error) {
    if (error instanceof NameError) throw new UsageError(`--server: ${error.message}`);
    throw error;
  }
  if (!isUsername(account)) {
    throw new UsageError(`--account: "${account}" is not a valid username: ${USERNAME_RULES}`);
  }
  return { server, account, key: await readKeyFile(keyFile) };
}

/** Reads a client key from a file, saying which file when it cannot. */
export async function readKeyFile(path: string): Promise<Uint8Array> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(
      `cannot read the key file ${path}: ${error instanceof Error ? error.message : error}`,
    );
  }
  try {
    return parseKey(text);
  } catch (error) {
    if (error instanceof KeyError) throw new Error(`the key file ${path}: ${error.message}`);
    throw error;
  }
}
