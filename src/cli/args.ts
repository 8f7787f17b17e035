/** Argument parsing shared by the subcommands: `--help` everywhere, usage errors with exit status 2. */

import { parseArgs } from "node:util";

/** The command line is wrong; the message says how, and the help text follows it. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Options of one subcommand, in `node:util` parseArgs form. */
export type OptionSpec = Record<
  string,
  { type: "string" | "boolean"; short?: string; default?: string | boolean }
>;

/** A parsed command line. */
export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `argv` for a subcommand. Returns null (after printing `help`) when `--help` is
 * given; throws {@linkcode UsageError} on unknown options or a wrong number of arguments.
 *
 * @example
 * ```ts
 * import { parseCommand } from "./args.ts";
 * parseCommand(["alice", "--datadir", "d"], { datadir: { type: "string" } }, "help", [1, 1]);
 * // { values: { datadir: "d" }, positionals: ["alice"] }
 * ```
 */
export function parseCommand(
  argv: string[],
  options: OptionSpec,
  help: string,
  positionals: [min: number, max: number],
): Parsed | null {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(help);
    return null;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const count = parsed.positionals.length;
  if (count < positionals[0]) throw new UsageError("missing arguments");
  if (count > positionals[1]) {
    throw new UsageError(`unexpected argument "${parsed.positionals[positionals[1]]}"`);
  }
  return { values: parsed.values as Parsed["values"], positionals: parsed.positionals };
}

/** The default datadir. */
export const DEFAULT_DATADIR = "./data";

/** The value of a string option, or its default. */
export function stringOption(parsed: Parsed, name: string, fallback: string): string;
export function stringOption(parsed: Parsed, name: string): string | undefined;
export function stringOption(parsed: Parsed, name: string, fallback?: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === "string" ? value : fallback;
}
