/** The subcommands of `ripple client`, by name: trustlines, payments, and the server's info. */

import { describeUnit } from "../client/amounts.ts";
import * as api from "../client/commands.ts";
import type { Subcommand } from "./client_call.ts";
import { PAYMENT_COMMANDS } from "./client_payment_commands.ts";
import { TRUSTLINE_COMMANDS } from "./client_trustline_commands.ts";

export type { Call, Subcommand, SubcommandOptions } from "./client_call.ts";

/** Every client subcommand by name; `run` resolves false when the outcome is a failure. */
export const SUBCOMMANDS: Record<string, Subcommand> = {
  ...TRUSTLINE_COMMANDS,
  ...PAYMENT_COMMANDS,
  info: {
    usage: "info",
    summary: "the server's address and how it shows amounts",
    help: `Shows the server's own address and its display unit: what amounts count and with how
many decimal places (the server's unit and decimals settings).`,
    args: 0,
    async run({ print, client }) {
      const info = await api.serverInfo(client);
      print(`Server ${info.address}: amounts in ${describeUnit(info.display)}`, {
        address: info.address,
        unit: info.display.unit,
        decimals: info.display.decimals,
      });
      return true;
    },
  },
};
