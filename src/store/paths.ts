/** Where every file lives under `datadir/ripple`; every name is validated before it becomes a path. */

import {
  type AccountRef,
  isCanonicalAddress,
  isUsername,
  NameError,
  printable,
} from "../wire/names.ts";

/** Files of an account's own directory. */
export type AccountFile = "secretkey.txt" | "counter.txt";

/** Files of a peer's directory, `accounts/NAME/peers/ADDRESS/PEER/`. */
export type PeerFile =
  | "secretkey.txt"
  | "counter_in.txt"
  | "counter_out.txt"
  | "trustline_out.txt"
  | "counter.txt"
  | "sync_out.txt"
  | "trustline_in.txt"
  | "sync_in.txt"
  | "timestamp.txt"
  | "balance.txt"
  | "locked_in.txt"
  | "locked_out.txt"
  | "in_flight.txt";

/** Directory of all accounts, relative to the store root. */
export const ACCOUNTS_DIR = "accounts";
/** Directory of markers naming the accounts with work in flight (resends, timers). */
export const PENDING_DIR = "pending";

function checkUsername(username: string): string {
  if (!isUsername(username)) throw new NameError(`invalid username "${printable(username)}"`);
  return username;
}

function checkPeer(peer: AccountRef): AccountRef {
  checkUsername(peer.username);
  if (!isCanonicalAddress(peer.address)) {
    throw new NameError(`invalid server address "${printable(peer.address)}"`);
  }
  return peer;
}

/**
 * An account's directory.
 *
 * @example
 * ```ts
 * import { accountDir } from "./paths.ts";
 * accountDir("alice"); // "accounts/alice"
 * ```
 */
export function accountDir(username: string): string {
  return `${ACCOUNTS_DIR}/${checkUsername(username)}`;
}

/** A file in an account's directory. */
export function accountPath(username: string, file: AccountFile): string {
  return `${accountDir(username)}/${file}`;
}

/** The directory listing an account's peers by server address. */
export function peersDir(username: string): string {
  return `${accountDir(username)}/peers`;
}

/**
 * A peer's directory under an account.
 *
 * @example
 * ```ts
 * import { peerDir } from "./paths.ts";
 * peerDir("alice", { username: "bob", address: "127.0.0.3" });
 * // "accounts/alice/peers/127.0.0.3/bob"
 * ```
 */
export function peerDir(username: string, peer: AccountRef): string {
  checkPeer(peer);
  return `${peersDir(username)}/${peer.address}/${peer.username}`;
}

/** A file in a peer's directory. */
export function peerPath(username: string, peer: AccountRef, file: PeerFile): string {
  return `${peerDir(username, peer)}/${file}`;
}

/** Directory of an account's payments in flight; `ended` holds the finished ones. */
export function paymentsDir(username: string, ended = false): string {
  return `${accountDir(username)}/${ended ? "history" : "payments"}`;
}

/** A payment record, named by the payment id in hex. */
export function paymentPath(username: string, idHex: string, ended = false): string {
  if (!/^[0-9a-f]{64}$/.test(idHex)) throw new NameError("invalid payment id");
  return `${paymentsDir(username, ended)}/${idHex}.txt`;
}

/** The marker saying an account has work in flight. */
export function pendingPath(username: string): string {
  return `${PENDING_DIR}/${checkUsername(username)}`;
}

/** The reads {@linkcode listPeers} needs: a `Tx` or anything listing directories the same way. */
export interface Lister {
  list(dir: string): Promise<string[]>;
}

/**
 * Every peer of an account, by walking `peers/ADDRESS/NAME`; entries with invalid names
 * (which the server never creates) are skipped.
 */
export async function listPeers(tx: Lister, username: string): Promise<AccountRef[]> {
  const peers: AccountRef[] = [];
  const dir = peersDir(username);
  for (const address of await tx.list(dir)) {
    if (!isCanonicalAddress(address)) continue;
    for (const name of await tx.list(`${dir}/${address}`)) {
      if (isUsername(name)) peers.push({ username: name, address });
    }
  }
  return peers;
}
