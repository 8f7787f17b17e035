/** Argument parsing shared by the subcommands: `--help` everywhere, usage errors with exit status 2. */

import { parseArgs } from "node:util";

/** The command line is wrong; the message says how, and the help text follows it. */
export class UsageError extends Error {
  override name = "UsageError";
  /** The command whose help to point at, e.g. "client pay"; the top command when unset. */
  readonly topic?: string;
  constructor(message: string, topic?: string) {
    super(message);
    this.topic = topic;
  }
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
 * given; throws {@linkcode UsageError} on unknown options, an option without its value,
 * or a wrong number of arguments, in words of its own.
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
  if (wantsHelp(argv)) {
    console.log(help);
    return null;
  }
  const parsed = scan(argv, options);
  const count = parsed.positionals.length;
  if (count < positionals[0]) throw new UsageError("missing arguments");
  if (count > positionals[1]) {
    throw new UsageError(`unexpected argument "${parsed.positionals[positionals[1]]}"`);
  }
  return parsed;
}

/** Whether `--help` or `-h` is among the arguments. */
export function wantsHelp(argv: string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

/**
 * The first argument that is not an option or an option's value: the subcommand, for
 * choosing which help to print. Undefined if there is none.
 *
 * @example
 * ```ts
 * import { firstPositional } from "./args.ts";
 * firstPositional(["--profile", "alice", "pay", "--help"], { profile: { type: "string" } }); // "pay"
 * ```
 */
export function firstPositional(argv: string[], options: OptionSpec): string | undefined {
  const { tokens } = parseArgs({
    args: argv,
    options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  return tokens.find((token) => token.kind === "positional")?.value;
}

function scan(argv: string[], options: OptionSpec): Parsed {
  const { values, positionals, tokens } = parseArgs({
    args: argv,
    options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const spec = options[token.name];
    if (spec === undefined) {
      const raw = argv[token.index];
      throw new UsageError(
        /^-[0-9]/.test(raw)
          ? `"${raw}" is negative; amounts cannot be negative`
          : `unknown option ${token.rawName}`,
      );
    }
    if (spec.type === "boolean" && token.inlineValue) {
      throw new UsageError(`${token.rawName} takes no value`);
    }
    if (spec.type === "string") {
      const value = token.value;
      const swallowed = !token.inlineValue && value !== undefined && value.startsWith("--") &&
        Object.hasOwn(options, value.slice(2).split("=")[0]);
      if (value === undefined || swallowed) {
        throw new UsageError(`${token.rawName} needs a value`);
      }
    }
  }
  return { values: values as Parsed["values"], positionals };
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

/** One subcommand of a command with several (`ripple account add`, `ripple peer rekey`). */
export interface Verb {
  /** One line for the command's help. */
  summary: string;
  run(argv: string[]): Promise<void>;
}

/**
 * Picks and runs the verb `argv` starts with; prints `help` when there is none. A usage
 * error inside a verb points at that verb's help.
 */
export async function runVerb(
  command: string,
  argv: string[],
  verbs: Record<string, Verb>,
  help: string,
): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    return console.log(help);
  }
  const verb = Object.hasOwn(verbs, name) ? verbs[name] : undefined;
  if (verb === undefined) {
    throw new UsageError(
      `unknown ${command} subcommand "${name}": use ${Object.keys(verbs).join(", ")}`,
    );
  }
  try {
    await verb.run(rest);
  } catch (error) {
    if (error instanceof UsageError && error.topic === undefined) {
      throw new UsageError(error.message, `${command} ${name}`);
    }
    throw error;
  }
}

/** The help of a command with verbs: one line per verb. */
export function verbsHelp(command: string, about: string, verbs: Record<string, Verb>): string {
  const lines = Object.entries(verbs).map(([name, verb]) => `  ${name.padEnd(8)} ${verb.summary}`);
  return `Usage: ripple ${command} SUBCOMMAND [ARGS]

${about}

Subcommands:
${lines.join("\n")}

Run "ripple ${command} SUBCOMMAND --help" for the arguments of each.`;
}
