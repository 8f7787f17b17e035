/** The ripple command line: picks a subcommand and runs it. */

import { accountCommand, peerCommand } from "./src/cli/account.ts";
import { UsageError } from "./src/cli/args.ts";
import { clientCommand, ClientFailure } from "./src/cli/client.ts";
import { serveCommand, ServeFailure } from "./src/cli/serve.ts";
import { statusCommand } from "./src/cli/status.ts";

const HELP = `ripple: a federated peer-to-peer credit network server

Usage: ripple COMMAND [OPTIONS]

Commands:
  serve     run a server
  account   add an account to a server's datadir
  peer      record a peer of an account, with the key the two share
  client    send a command to an account's server
  status    what a datadir holds and what is in flight

Run "ripple COMMAND --help" for the options of each.`;

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  serve: serveCommand,
  account: accountCommand,
  peer: peerCommand,
  client: clientCommand,
  status: statusCommand,
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
      console.error(`ripple ${name}: ${error.message}\nRun "ripple ${name} --help" for usage.`);
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
