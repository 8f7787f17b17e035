/** Server info (client command 11): what a client needs to know about the server before it shows an amount. */

import type { DisplayUnit } from "../core/config.ts";
import { clientCommand, type Feature } from "../core/context.ts";
import { noArgs, serverInfoBody } from "../wire/arguments.ts";
import { ClientCommand } from "../wire/commands.ts";
import { Status } from "../wire/response.ts";

/** What the server-info feature answers with. */
export interface ServerInfoOptions {
  display: DisplayUnit;
  /** This server's canonical address. */
  address: string;
}

/**
 * The server-info feature: one signed, read-only client command, so that a client learns the
 * display unit from the server it already trusts rather than from its own settings.
 *
 * @example
 * ```ts
 * import { createServerInfo } from "./server_info.ts";
 * const info = createServerInfo({ display: { unit: "hours", decimals: 2 }, address: "127.0.0.2" });
 * Object.keys(info.clientCommands!); // ["11"]
 * ```
 */
export function createServerInfo(options: ServerInfoOptions): Feature {
  const body = serverInfoBody.encode({
    decimals: options.display.decimals,
    unit: options.display.unit,
    address: options.address,
  });
  return {
    clientCommands: {
      [ClientCommand.ServerInfo]: clientCommand({
        args: noArgs,
        peer: "none",
        handle: () => Promise.resolve({ status: Status.Ok, body }),
      }),
    },
  };
}
