/** Creating accounts and peers in a datadir: what `ripple account add` and `ripple peer add` do. */

import { toHex } from "../auth/keys.ts";
import { type AccountRef, formatAccountRef } from "../wire/names.ts";
import { SECRET_MODE, writeDurableBatch } from "./durable.ts";
import type { FileSystem } from "./fs.ts";
import { accountPath, peerPath } from "./paths.ts";

/** The account or peer already exists, or the account a peer is added to does not. */
export class AccountError extends Error {
  override name = "AccountError";
}

/**
 * Creates an account with its client key. Files are new, so this is safe while a server
 * runs on the same datadir: the server reads them on first use.
 *
 * @example
 * ```ts
 * import { MemoryFileSystem } from "./memory_fs.ts";
 * import { createAccount } from "./accounts.ts";
 * await createAccount(new MemoryFileSystem().view(), "/data/ripple", "alice", new Uint8Array(32));
 * ```
 */
export async function createAccount(
  fs: FileSystem,
  root: string,
  username: string,
  key: Uint8Array,
): Promise<void> {
  const keyPath = `${root}/${accountPath(username, "secretkey.txt")}`;
  if ((await fs.read(keyPath)) !== null) {
    throw new AccountError(`account ${username} already exists`);
  }
  await writeDurableBatch(fs, [
    [`${root}/${accountPath(username, "counter.txt")}`, "0\n"],
    [keyPath, `${toHex(key)}\n`],
  ], { [keyPath]: SECRET_MODE });
}

/** Records `peer` as a peer of `username` with the key the two share. */
export async function addPeer(
  fs: FileSystem,
  root: string,
  username: string,
  peer: AccountRef,
  key: Uint8Array,
): Promise<void> {
  if ((await fs.read(`${root}/${accountPath(username, "secretkey.txt")}`)) === null) {
    throw new AccountError(`account ${username} does not exist`);
  }
  const keyPath = `${root}/${peerPath(username, peer, "secretkey.txt")}`;
  if ((await fs.read(keyPath)) !== null) {
    throw new AccountError(`${formatAccountRef(peer)} is already a peer of ${username}`);
  }
  await writeDurableBatch(fs, [
    [`${root}/${peerPath(username, peer, "counter_in.txt")}`, "0\n"],
    [`${root}/${peerPath(username, peer, "counter_out.txt")}`, "0\n"],
    [keyPath, `${toHex(key)}\n`],
  ], { [keyPath]: SECRET_MODE });
}
