/** Waiting for conditions and log lines, and snapshots of directories for "nothing changed" checks. */

import assert from "node:assert/strict";
import type { RippleServer } from "./_server.ts";

const POLL_MS = 25;

/**
 * Polls `predicate` until it holds; throws after `timeoutMs`, naming `what` (a function is
 * called only then, so it can describe the state at the time of the failure).
 *
 * @example
 * ```ts ignore
 * await waitFor(async () => (await getTrustlineOut(client, bob.ref)).syncOut === 1, 5_000);
 * ```
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string | (() => string) = "the condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) {
      const described = typeof what === "string" ? what : what();
      throw new Error(`${described} did not hold within ${timeoutMs} ms`);
    }
    await sleep(POLL_MS);
  }
}

/**
 * Waits for a log line of `server` containing every one of `parts`, among the lines from
 * index `since` on; returns it.
 */
export async function waitForLog(
  server: RippleServer,
  parts: string[],
  options: { since?: number; timeoutMs?: number } = {},
): Promise<string> {
  const find = () =>
    server.logs().slice(options.since ?? 0).find((line) => parts.every((p) => line.includes(p)));
  await waitFor(
    () => find() !== undefined,
    options.timeoutMs ?? 5_000,
    () =>
      `a log line of ${server.address} with ${JSON.stringify(parts)} (its lines:\n` +
      `${server.logs().slice(options.since ?? 0).join("\n")})`,
  );
  return find()!;
}

/**
 * Every file and directory under `dir` (directories end in `/` and map to ""), with the
 * files' contents: compare two snapshots to show nothing was created or changed.
 */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const entries: [string, string][] = [];
  const walk = async (relative: string) => {
    for await (const entry of Deno.readDir(`${dir}/${relative}`)) {
      const path = `${relative}${entry.name}`;
      if (entry.isDirectory) {
        entries.push([`${path}/`, ""]);
        await walk(`${path}/`);
      } else if (entry.isSymlink) {
        entries.push([path, `-> ${await Deno.readLink(`${dir}/${path}`)}`]);
      } else {
        entries.push([path, await Deno.readTextFile(`${dir}/${path}`)]);
      }
    }
  };
  await walk("");
  return new Map(entries.sort(([a], [b]) => a < b ? -1 : 1));
}

/**
 * Runs `send` and checks the server logged a line with every one of `events` and that no
 * file or directory under `root` was created, changed or removed.
 */
export async function changesNothing<T>(
  server: RippleServer,
  root: string,
  events: string[],
  send: () => Promise<T>,
): Promise<T> {
  const before = await snapshot(root);
  const since = server.logs().length;
  const result = await send();
  await waitForLog(server, events, { since });
  assert.deepEqual(await snapshot(root), before);
  return result;
}

/** A temporary directory, removed on dispose. */
export interface TempDir extends AsyncDisposable {
  readonly path: string;
}

/** Makes a {@linkcode TempDir}. */
export async function tempDir(): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix: "ripple-integ-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
