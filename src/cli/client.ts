/** `ripple client`: every client command from the shell, human-readable or `--json`. */

import { parseKey } from "../auth/keys.ts";
import { AuthenticationError, Client, ClientError } from "../client/client.ts";
import { Status } from "../wire/response.ts";
import { FileCounterStore } from "../client/counter_store.ts";
import { tcpExchange } from "../client/tcp_exchange.ts";
import { isUsername, NameError, parseServerAddress } from "../wire/names.ts";
import { parseCommand, type Parsed, stringOption, UsageError } from "./args.ts";
import { SUBCOMMANDS } from "./client_commands.ts";

const HELP =
  `Usage: ripple client --server ADDRESS --account NAME --key-file FILE [--json] COMMAND [ARGS]

Sends one command to the account's server and prints the answer.

Commands:
${Object.values(SUBCOMMANDS).map((command) => `  ${command.usage}`).join("\n")}

Options:
  --server ADDRESS     the account's server, host or host:port (port 2012 if left out)
  --account NAME       the account
  --key-file FILE      file holding the account's client key (64 hex characters)
  --counter-file FILE  where the last counter used is kept (default: FILE.counter)
  --id ID              the payment id (receive: chosen at random when left out)
  --wait               receive, pay: wait until the payment is completed or failed
  --timeout SECONDS    how long --wait waits (default 60)
  --offset N           peers, payments: start the list at entry N
  --json               print the answer as JSON (amounts as strings)

Exit status: 0 on success, 1 when the server refuses or cannot be reached, 2 on a usage error.

Examples:
  ripple client --server 127.0.0.2 --account alice --key-file alice.key set-trustline bob@127.0.0.3 100
  ripple client --server 127.0.0.4 --account carol --key-file carol.key receive alice@127.0.0.2 25
  ripple client --server 127.0.0.2 --account alice --key-file alice.key pay carol@127.0.0.4 25 --id ID --wait`;

const OPTIONS = {
  server: { type: "string" },
  account: { type: "string" },
  "key-file": { type: "string" },
  "counter-file": { type: "string" },
  json: { type: "boolean" },
  id: { type: "string" },
  wait: { type: "boolean" },
  timeout: { type: "string" },
  offset: { type: "string" },
} as const;

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
  const timeout = Number(stringOption(parsed, "timeout", "60"));
  const offset = Number(stringOption(parsed, "offset", "0"));
  if (!(timeout > 0)) throw new UsageError("--timeout is a number of seconds greater than 0");
  if (!Number.isInteger(offset) || offset < 0) throw new UsageError("--offset is a whole number");
  const client = await openClient(parsed);
  const json = parsed.values.json === true;
  const print = (human: string, fields: Record<string, unknown>) =>
    console.log(json ? JSON.stringify(fields) : human);
  const options = {
    id: stringOption(parsed, "id"),
    wait: parsed.values.wait === true,
    timeoutMs: timeout * 1000,
    offset,
  };
  let ok: boolean;
  try {
    ok = await subcommand.run(client, args, print, options);
  } catch (error) {
    throw explain(error, required(parsed, "server"));
  }
  if (!ok) throw new ClientFailure();
}

const HINTS: Record<number, string> = {
  [Status.Malformed]:
    "the server did not understand the request; are the client and server the same version?",
  [Status.Unauthorized]:
    "check --account and --key-file: the key is the one `ripple account add` printed",
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
      `nothing is listening at ${server}: is the server running, and is --server right?`,
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

/** How long one exchange with the server may take. */
const CLIENT_TIMEOUT_MS = 10_000;

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
  return new Client({
    server,
    account,
    key: parseKey(keyText),
    counters,
    exchange: tcpExchange(CLIENT_TIMEOUT_MS),
  });
}

function required(parsed: Parsed, name: string): string {
  const value = stringOption(parsed, name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}
