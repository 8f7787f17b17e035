/** Reading a datadir's `ripple.conf` from disk, with the command line's settings laid over it. */

import type { DisplayUnit } from "../core/config.ts";
import {
  buildConfig,
  CONFIG_FILE,
  ConfigError,
  NUMBER_SETTINGS,
  parseConfigLines,
  type ServerConfig,
  TEXT_SETTINGS,
} from "./config.ts";

/** The flag of a setting: its name with dashes. */
export function flag(name: string): string {
  return name.replaceAll("_", "-");
}

/** Reads `DATADIR/ripple.conf` (if there is one) and lays the command line's settings over it. */
export async function loadConfig(
  datadir: string,
  fromFlags: (name: string) => string | undefined,
): Promise<ServerConfig> {
  const file = `${datadir}/${CONFIG_FILE}`;
  let text = "";
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new ConfigError(
        `cannot read ${file}: ${error instanceof Error ? error.message : error}`,
      );
    }
  }
  const { values, where, peers } = parseConfigLines(text, file);
  for (const name of [...TEXT_SETTINGS, ...Object.keys(NUMBER_SETTINGS)]) {
    const value = fromFlags(name);
    if (value === undefined) continue;
    values.set(name, value);
    where.set(name, `--${flag(name)}`);
  }
  return buildConfig(values, (name) => where.get(name) ?? "the default", peers);
}

/**
 * The display unit a datadir's server uses, from its `ripple.conf`, for the commands that
 * read the datadir itself (`status`, `account list`, ...). A unit given only as a flag to
 * `ripple serve` is not seen here.
 */
export async function readDisplay(datadir: string): Promise<DisplayUnit> {
  return (await loadConfig(datadir, () => undefined)).display;
}
