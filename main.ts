/** The ripple command line: picks a subcommand and runs it. */

import { accountCommand } from "./src/cli/account.ts";
import { UsageError } from "./src/cli/args.ts";
import { clientCommand, ClientFailure } from "./src/cli/client.ts";
import { peerCommand } from "./src/cli/peer.ts";
import { profileCommand } from "./src/cli/profile_command.ts";
import { serveCommand, ServeFailure } from "./src/cli/serve.ts";
import { statusCommand } from "./src/cli/status.ts";

const HELP = `ripple: a federated peer-to-peer credit network server

Usage: ripple COMMAND [OPTIONS]

Commands:
  serve     run a server
  account   add, list and remove the accounts of a server's datadir
  peer      add, list, remove and rekey the peers of an account
  status    what a datadir holds and what is in flight
  profile   the accounts this client acts as (server, account, key)
  client    send a command to an account's server

Run "ripple COMMAND --help" for the options of each.`;

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  serve: serveCommand,
  account: accountCommand,
  peer: peerCommand,
  status: statusCommand,
  profile: profileCommand,
  client: clientCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(HELP);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    console.error(`ripple: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  try {
    await command(rest);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      const topic = error.topic ?? name;
      console.error(`ripple ${topic}: ${error.message}\nRun "ripple ${topic} --help" for usage.`);
      return 2;
    }
    if (error instanceof ServeFailure) return error.code;
    if (!(error instanceof ClientFailure)) {
      console.error(`ripple ${name}: ${error instanceof Error ? error.message : error}`);
    }
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
