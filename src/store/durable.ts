/** Crash-safe file replacement: write a temp file, fsync it, rename it over, fsync the directory. */

import { basename, dirname, type FileSystem } from "./fs.ts";

/** Permission bits of secret key files. */
export const SECRET_MODE = 0o600;

const encoder = new TextEncoder();

/**
 * The temp file beside `path`. It starts with `.`, which no username, address or data
 * file name does, so directory listings can skip it.
 */
export function tempPath(path: string): string {
  return `${dirname(path)}/.${basename(path)}.tmp`;
}

/** Whether a directory entry is a temp file (or anything else hidden) to be skipped. */
export function isHidden(name: string): boolean {
  return name.startsWith(".");
}

/**
 * Replaces `path` with `text` so that after a crash at any point the file holds either
 * its old content or the new, never a mix. Creates missing parent directories.
 *
 * @example
 * ```ts ignore
 * import { DenoFileSystem } from "./fs.ts";
 * import { writeDurable } from "./durable.ts";
 * await writeDurable(new DenoFileSystem(), "/tmp/ripple/counter.txt", "5\n");
 * ```
 */
export async function writeDurable(
  fs: FileSystem,
  path: string,
  text: string,
  mode?: number,
): Promise<void> {
  await writeDurableBatch(fs, [[path, text]], { [path]: mode });
}

/** Modes for some of the paths of a batch; others get the default. */
export type Modes = Record<string, number | undefined>;

/**
 * Replaces or removes many files durably: missing directories are created and their
 * parents fsynced first (a new directory is only an entry in its parent), then all temp
 * files are written and fsynced, then renamed, then each directory touched is fsynced once.
 * Each file on its own is crash-safe; the batch as a whole is not atomic (the journal gives
 * that). If it fails, the temp files it wrote are removed, so that a full disk gets its
 * space back.
 */
export async function writeDurableBatch(
  fs: FileSystem,
  files: Iterable<[path: string, text: string | null]>,
  modes: Modes = {},
): Promise<void> {
  const writes: [string, string][] = [];
  const removals: string[] = [];
  const dirs = new Set<string>();
  for (const [path, text] of files) {
    if (text === null) removals.push(path);
    else writes.push([path, text]);
    dirs.add(dirname(path));
  }
  const parents = new Set<string>();
  for (const dir of dirs) {
    for (const created of await fs.mkdir(dir)) parents.add(dirname(created));
  }
  await inParallel([...parents], (dir) => fs.syncDir(dir));
  try {
    await inParallel(
      writes,
      ([path, text]) =>
        fs.write(tempPath(path), encoder.encode(text), { sync: true, mode: modes[path] }),
    );
    for (const [path] of writes) await fs.rename(tempPath(path), path);
  } catch (error) {
    await Promise.allSettled(writes.map(([path]) => fs.remove(tempPath(path))));
    throw error;
  }
  for (const path of removals) await fs.remove(path);
  await inParallel([...dirs], (dir) => fs.syncDir(dir));
}

/**
 * Creates a directory and its missing parents durably: the parent of each one created is
 * fsynced, since a new directory is only an entry in its parent until then.
 */
export async function mkdirDurable(fs: FileSystem, dir: string): Promise<void> {
  const created = await fs.mkdir(dir);
  await inParallel(created.map(dirname), (parent) => fs.syncDir(parent));
}

/**
 * Fsyncs every directory above `dirs` up to the parent of `top`, so that each directory
 * from `top` down is a durable entry in its parent, whichever life of the server created it.
 * A life that ended between a mkdir and the fsync of its parent leaves a directory that
 * exists but would not survive a crash; recovery cannot tell which, so it makes sure of all.
 */
export async function syncAncestors(
  fs: FileSystem,
  dirs: Iterable<string>,
  top: string,
): Promise<void> {
  const stop = dirname(top);
  const ancestors = new Set<string>();
  for (let dir of dirs) {
    if (dir !== top && !dir.startsWith(`${top}/`)) continue;
    while (dir !== stop && !ancestors.has(dirname(dir))) {
      dir = dirname(dir);
      ancestors.add(dir);
    }
  }
  await inParallel([...ancestors], (dir) => fs.syncDir(dir));
}

const PARALLEL = 16;

/**
 * Runs `task` over `items`, at most {@linkcode PARALLEL} at a time, so the disk can merge
 * flushes. After a failure no new task starts, and the first error is thrown once the
 * running ones are done, so that nothing still writes when the caller cleans up.
 */
async function inParallel<T>(items: T[], task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (failure === null && next < items.length) {
      try {
        await task(items[next++]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
}
