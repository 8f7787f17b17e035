/**
 * Client profiles: an account, its server and its client key under one name, so that a member
 * types `ripple client pay ...` without `--server --account --key-file`. They live in the
 * client's own directory, `$XDG_CONFIG_HOME/ripple` or `~/.config/ripple`, with the counters.
 */

import { KeyError, parseKey, toHex } from "../auth/keys.ts";
import { SECRET_MODE, writeDurable } from "../store/durable.ts";
import { DenoFileSystem } from "../store/fs.ts";
import { isUsername, NameError, parseServerAddress, USERNAME_RULES } from "../wire/names.ts";
import { UsageError } from "./args.ts";
import { ConfigError, readSettingLines } from "./settings_file.ts";

/** The environment variables the client reads; the binary may read these and no others. */
export const CLIENT_ENV = ["HOME", "XDG_CONFIG_HOME", "RIPPLE_PROFILE"] as const;

/** What a profile holds. */
export interface Profile {
  name: string;
  /** Where the client connects, `host` or `host:port`. */
  server: string;
  account: string;
  key: Uint8Array;
}

/** A profile is missing, damaged or cannot be chosen; the message says what to do. */
export class ProfileError extends Error {
  override name = "ProfileError";
}

const fs = new DenoFileSystem();
const PROFILE_SETTINGS = ["server", "account", "key"];

/**
 * The client's directory: `$XDG_CONFIG_HOME/ripple`, else `$HOME/.config/ripple`.
 *
 * @example
 * ```ts ignore
 * clientHome(); // "/home/alice/.config/ripple"
 * ```
 */
export function clientHome(): string {
  const xdg = env("XDG_CONFIG_HOME");
  if (xdg) return `${xdg}/ripple`;
  const home = env("HOME");
  if (home) return `${home}/.config/ripple`;
  throw new ProfileError(
    "neither HOME nor XDG_CONFIG_HOME is set, so there is no place for profiles and counters; set one, or give --counter-file",
  );
}

/** Reads one of {@linkcode CLIENT_ENV}; a binary run without that permission says so. */
export function env(name: (typeof CLIENT_ENV)[number]): string | undefined {
  try {
    return Deno.env.get(name);
  } catch (error) {
    if (
      !(error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied)
    ) {
      throw error;
    }
    throw new ProfileError(
      `the client needs to read ${name}: run it with --allow-env=${CLIENT_ENV.join(",")}`,
    );
  }
}

/** Where the client keeps the last counter it used for `account` at `server`. */
export function counterPath(home: string, account: string, server: string): string {
  return `${home}/counters/${account}@${server}`;
}

function profilePath(home: string, name: string): string {
  checkName(name);
  return `${home}/profiles/${name}.conf`;
}

function checkName(name: string): void {
  if (!isUsername(name)) {
    throw new UsageError(`"${name}" is not a valid profile name: ${USERNAME_RULES}`);
  }
}

/** Reads a profile; throws {@linkcode ProfileError} when it does not exist or is damaged. */
export async function loadProfile(home: string, name: string): Promise<Profile> {
  const path = profilePath(home, name);
  const bytes = await fs.read(path);
  if (bytes === null) {
    const known = await listProfiles(home);
    throw new ProfileError(
      `there is no profile "${name}"${
        known.length ? ` (there are: ${known.join(", ")})` : ""
      }; add it with: ripple profile add NAME@SERVER --name ${name}`,
    );
  }
  const text = new TextDecoder().decode(bytes);
  try {
    const values = new Map<string, string>();
    for (const { where, header, name: setting, value } of readSettingLines(text, path)) {
      if (header !== undefined || !PROFILE_SETTINGS.includes(setting)) {
        throw new ConfigError(`${where}: a profile holds only ${PROFILE_SETTINGS.join(", ")}`);
      }
      values.set(setting, value);
    }
    const [server, account, key] = PROFILE_SETTINGS.map((setting) => {
      const value = values.get(setting);
      if (value === undefined) throw new ConfigError(`${path}: no ${setting}`);
      return value;
    });
    parseServerAddress(server);
    if (!isUsername(account)) throw new ConfigError(`${path}: invalid account "${account}"`);
    return { name, server, account, key: parseKey(key) };
  } catch (error) {
    if (error instanceof ConfigError || error instanceof NameError || error instanceof KeyError) {
      throw new ProfileError(`profile ${name} is damaged: ${error.message}`);
    }
    throw error;
  }
}

/** Writes a profile (mode 0600: it holds the key); refuses to replace one unless `force`. */
export async function saveProfile(home: string, profile: Profile, force: boolean): Promise<void> {
  const path = profilePath(home, profile.name);
  if (!force && (await fs.read(path)) !== null) {
    throw new ProfileError(
      `profile ${profile.name} already exists; remove it first (ripple profile remove ${profile.name}) or replace it with --force`,
    );
  }
  await Deno.mkdir(`${home}/profiles`, { recursive: true, mode: 0o700 });
  const text = [
    "# A ripple client profile: keep this file secret, it holds the account's client key.",
    `server = ${profile.server}`,
    `account = ${profile.account}`,
    `key = ${toHex(profile.key)}`,
    "",
  ].join("\n");
  await writeDurable(fs, path, text, SECRET_MODE);
}

/** The names of every profile, sorted. */
export async function listProfiles(home: string): Promise<string[]> {
  const entries = (await fs.list(`${home}/profiles`)) ?? [];
  return entries
    .map((entry) => entry.name)
    .filter((file) => file.endsWith(".conf") && isUsername(file.slice(0, -5)))
    .map((file) => file.slice(0, -5))
    .sort();
}

/** Removes a profile, and makes no profile the default if it was. */
export async function removeProfile(home: string, name: string): Promise<void> {
  const path = profilePath(home, name);
  if ((await fs.read(path)) === null) throw new ProfileError(`there is no profile "${name}"`);
  if ((await defaultProfile(home)) === name) await fs.remove(`${home}/default_profile`);
  await fs.remove(path);
}

/** The profile `ripple profile use` chose, if any. */
export async function defaultProfile(home: string): Promise<string | undefined> {
  const bytes = await fs.read(`${home}/default_profile`);
  const name = bytes === null ? "" : new TextDecoder().decode(bytes).trim();
  return isUsername(name) ? name : undefined;
}

/** Makes `name` the profile used when none is named. */
export async function setDefaultProfile(home: string, name: string): Promise<void> {
  await loadProfile(home, name);
  await writeDurable(fs, `${home}/default_profile`, `${name}\n`);
}

/**
 * The profile a client command uses: `--profile`, else `RIPPLE_PROFILE`, else the default
 * (`ripple profile use`), else the only profile there is.
 */
export async function chooseProfile(home: string, flag: string | undefined): Promise<Profile> {
  const named = flag ?? env("RIPPLE_PROFILE") ?? (await defaultProfile(home));
  if (named !== undefined && named !== "") return await loadProfile(home, named);
  const all = await listProfiles(home);
  if (all.length === 1) return await loadProfile(home, all[0]);
  throw new ProfileError(
    all.length === 0
      ? "no profile yet: add one with `ripple profile add NAME@SERVER` (it reads the client key `ripple account add` printed), or give --server, --account and --key-file"
      : `there are several profiles (${
        all.join(", ")
      }) and none is the default: give --profile NAME, or choose one with \`ripple profile use NAME\``,
  );
}
