/**
 * The datadir's lock (`ripple/server.lock`): the server holds it while it runs and writes
 * where it listens into it; the commands that change what a server keeps (removing accounts
 * and peers, rekeying) take it too, so they never run beside a server.
 */

import { mkdirDurable } from "../store/durable.ts";
import { DenoFileSystem, dirname } from "../store/fs.ts";
import { Store } from "../store/store.ts";
import { Tx } from "../store/tx.ts";

/** Where the lock lives inside a datadir. */
export const LOCK_FILE = "ripple/server.lock";

/** Another process holds the datadir's lock. */
export class DatadirLocked extends Error {
  override name = "DatadirLocked";
}

/** A held datadir lock; disposing of it lets go. */
export interface DatadirLock extends Disposable {
  /** Records in the lock file that the server listens at `listen`, for `ripple status`. */
  announce(listen: string): Promise<void>;
}

const LOCK_WAIT_MS = 500;

/**
 * Takes the datadir's exclusive lock, or throws {@linkcode DatadirLocked} when another
 * process holds it. `ripple/` must exist.
 *
 * @example
 * ```ts ignore
 * using lock = await lockDatadir("./data");
 * ```
 */
export async function lockDatadir(datadir: string): Promise<DatadirLock> {
  const file = await Deno.open(`${datadir}/${LOCK_FILE}`, { write: true, create: true });
  if (!(await lockWithin(file, LOCK_WAIT_MS))) {
    file.close();
    throw new DatadirLocked(`a ripple server is running on ${datadir}`);
  }
  await file.truncate(0);
  return {
    async announce(listen) {
      await file.truncate(0);
      await file.write(new TextEncoder().encode(`pid=${Deno.pid} listen=${listen}\n`));
    },
    [Symbol.dispose]: () => file.close(),
  };
}

/** Whether a server runs on a datadir, and where it listens once it does. */
export interface ServerState {
  running: boolean;
  /** `host:port`, once the running server listens. */
  listen?: string;
  pid?: number;
}

/** Looks at the datadir's lock without taking it for more than an instant. */
export async function serverState(datadir: string): Promise<ServerState> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(`${datadir}/${LOCK_FILE}`, { read: true, write: true });
  } catch {
    return { running: false };
  }
  try {
    if (await lockWithin(file, 200)) {
      await file.unlock();
      return { running: false };
    }
    const text = await Deno.readTextFile(`${datadir}/${LOCK_FILE}`);
    const listen = /listen=(\S+)/.exec(text)?.[1];
    const pid = /pid=([0-9]+)/.exec(text)?.[1];
    return { running: true, listen, pid: pid === undefined ? undefined : Number(pid) };
  } finally {
    file.close();
  }
}

async function lockWithin(file: Deno.FsFile, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"held">((resolve) => timer = setTimeout(() => resolve("held"), ms));
  const outcome = await Promise.race([file.lock(true).then(() => "locked" as const), timeout]);
  clearTimeout(timer);
  return outcome === "locked";
}

/**
 * Runs `change` on a datadir no server runs on, holding its lock. The store is opened
 * first, so a journal a crash left is replayed into the files before `change` reads them;
 * what `change` writes through `tx` is committed as one change set (all of it or none, even
 * across a crash). `action` names the command in the refusal while a server runs.
 */
export async function withStoppedServer<T>(
  datadir: string,
  action: string,
  change: (tx: Tx) => Promise<T>,
): Promise<T> {
  await mustHoldData(datadir);
  let lock: DatadirLock;
  try {
    lock = await lockDatadir(datadir);
  } catch (error) {
    if (!(error instanceof DatadirLocked)) throw error;
    throw new DatadirLocked(
      `a ripple server is running on ${datadir}: stop it first (${action} changes files the running server keeps)`,
    );
  }
  using _lock = lock;
  // Every file is written out at the start, however many the journal holds: a change that
  // moves directories aside must not leave their newest values in a journal that the next
  // start would replay into them.
  const store = await Store.open(new DenoFileSystem(), `${datadir}/ripple`, {
    batchFiles: Infinity,
  });
  try {
    if (store.journaledFiles > 0) {
      throw new Error(
        `the journal in ${datadir}/ripple could not be written into its files (is the disk full?): free some space and try again`,
      );
    }
    const tx = new Tx(store);
    const result = await change(tx);
    if (tx.changes.size > 0) await store.commit(tx.changes);
    return result;
  } finally {
    await store.close();
  }
}

/**
 * Reads a datadir without changing it, safe while a server runs: the store is opened
 * read-only, with the journal replayed in memory (the figures may be a moment old).
 */
export async function readDatadir<T>(datadir: string, read: (tx: Tx) => Promise<T>): Promise<T> {
  await mustHoldData(datadir);
  const store = await Store.open(new DenoFileSystem(), `${datadir}/ripple`, { readOnly: true });
  try {
    return await read(new Tx(store));
  } finally {
    await store.close();
  }
}

/** Directory of what `account remove` and `peer remove` moved aside, under `ripple/`. */
export const REMOVED_DIR = "removed";

/**
 * Moves `ripple/PATH` (an account's or a peer's directory) to `ripple/removed/TIME/PATH` in
 * one rename, so that a crash leaves it either where it was or aside, never half of it; the
 * operator can move it back with the server stopped. Returns where it went.
 */
export async function moveAside(datadir: string, path: string, now = new Date()): Promise<string> {
  const fs = new DenoFileSystem();
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  const from = `${datadir}/ripple/${path}`;
  const to = `${datadir}/ripple/${REMOVED_DIR}/${stamp}/${path}`;
  await mkdirDurable(fs, dirname(to));
  await fs.rename(from, to);
  await fs.syncDir(dirname(from));
  await fs.syncDir(dirname(to));
  return to;
}

/** Throws, naming the directory, unless `datadir/ripple` exists. */
export async function mustHoldData(datadir: string): Promise<void> {
  try {
    await Deno.stat(`${datadir}/ripple`);
  } catch {
    throw new Error(`${datadir} holds no ripple data (no ${datadir}/ripple directory)`);
  }
}
