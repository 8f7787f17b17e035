/** The `name = value` files of the command line: the server's `ripple.conf` and the client's profiles. */

/** A settings file cannot be used; the message names the file, the line and the fix. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** One meaningful line of a settings file: a `[section]` header, or a `name = value`. */
export interface SettingLine {
  /** `file:line`, for messages. */
  where: string;
  /** The whole line, when it is a `[...]` header. */
  header?: string;
  name: string;
  value: string;
}

/**
 * The meaningful lines of a settings file. Blank lines are skipped, and so is a `#` at the
 * start of a line or after a space, to the end of its line; every other line is a `[...]`
 * header or `name = value`, else {@linkcode ConfigError}.
 *
 * @example
 * ```ts
 * import { readSettingLines } from "./settings_file.ts";
 * readSettingLines("# a comment\nunit = hours   # what amounts count\n", "ripple.conf");
 * // [{ where: "ripple.conf:2", name: "unit", value: "hours" }]
 * ```
 */
export function readSettingLines(text: string, file: string): SettingLine[] {
  const lines: SettingLine[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") return;
    const where = `${file}:${i + 1}`;
    if (line.startsWith("[")) return lines.push({ where, header: line, name: "", value: "" });
    const eq = line.indexOf("=");
    if (eq === -1) throw new ConfigError(`${where}: expected "name = value", got "${line}"`);
    lines.push({ where, name: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
  });
  return lines;
}
