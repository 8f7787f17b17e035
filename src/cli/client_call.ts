/** What every `ripple client` subcommand runs with, and the parsing of its arguments. */

import { fromHex } from "../auth/keys.ts";
import { AmountError, describeUnit, type DisplayUnit, parseAmount } from "../client/amounts.ts";
import type { Client } from "../client/client.ts";
import { type AccountRef, NameError, parseAccountRef } from "../wire/names.ts";
import { UsageError } from "./args.ts";
import type { Printer } from "./client_output.ts";

/** Options of a subcommand beyond its positional arguments. */
export interface SubcommandOptions {
  id?: string;
  /** The seller's routing label (pay). */
  label?: string;
  /** Demand the seller's receipt (pay). */
  receipt: boolean;
  wait: boolean;
  timeoutMs: number;
  offset: number;
}

/** What a subcommand runs with. */
export interface Call {
  client: Client;
  args: string[];
  print: Printer;
  /** Words around the answer for people; on stderr, so that stdout holds only the answer. */
  note(text: string): void;
  options: SubcommandOptions;
  /** The server's display unit (client command 11), asked once. */
  display(): Promise<DisplayUnit>;
}

/** One client subcommand. */
export interface Subcommand {
  /** `name ARGS`, as in the usage line. */
  usage: string;
  /** One line for the list in `ripple client --help`. */
  summary: string;
  /** What `ripple client NAME --help` adds below the usage line. */
  help: string;
  args: number;
  /** Resolves false when the outcome is a failure (exit status 1). */
  run(call: Call): Promise<boolean>;
}

/** A peer argument, NAME@ADDRESS. */
export function peerArg(text: string): AccountRef {
  try {
    return parseAccountRef(text);
  } catch (error) {
    if (error instanceof NameError) throw new UsageError(error.message);
    throw error;
  }
}

/** An amount argument in the display unit; `positive` refuses 0 (payments). */
export function amountArg(text: string, unit: DisplayUnit, positive: boolean): bigint {
  let amount;
  try {
    amount = parseAmount(text, unit);
  } catch (error) {
    if (error instanceof AmountError) {
      throw new UsageError(`AMOUNT: ${error.message}; amounts here are ${describeUnit(unit)}`);
    }
    throw error;
  }
  if (positive && amount === 0n) throw new UsageError("AMOUNT: a payment must be greater than 0");
  return amount;
}

/** A payment id argument, 64 hex characters. */
export function idArg(text: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new UsageError(
      `a payment id is 64 lower-case hex characters, as receive printed it; got "${
        text.slice(0, 70)
      }"`,
    );
  }
  return fromHex(text);
}
