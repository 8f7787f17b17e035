/** Typed calls for every client command, over a {@linkcode Client}. */

import { amountArgs, noArgs, trustlineInBody, trustlineOutBody } from "../wire/arguments.ts";
import { ClientCommand } from "../wire/commands.ts";
import type { AccountRef } from "../wire/names.ts";
import type { Client } from "./client.ts";

/** A trustline as the account that receives it sees it. */
export interface TrustlineIn {
  amount: bigint;
  syncIn: number;
  /** Unix seconds of the last confirmation from the peer's server; 0 if never. */
  lastSync: number;
}

/** A trustline as the account that sets it sees it. */
export interface TrustlineOut {
  amount: bigint;
  counter: number;
  syncOut: number;
}

/**
 * Client command 0: extend `amount` of credit to `peer`.
 *
 * @example
 * ```ts ignore
 * await setTrustline(client, { username: "bob", address: "127.0.0.3" }, 100n);
 * ```
 */
export async function setTrustline(
  client: Client,
  peer: AccountRef,
  amount: bigint,
): Promise<void> {
  await client.call(ClientCommand.SetTrustline, peer, amountArgs.encode({ amount }));
}

/** Client command 1: ask the peer's server to send its trustline again. */
export async function syncTrustlineIn(client: Client, peer: AccountRef): Promise<void> {
  await client.call(ClientCommand.SyncTrustlineIn, peer, noArgs.encode({}));
}

/** Client command 2: send our trustline to the peer's server again, now. */
export async function syncTrustlineOut(client: Client, peer: AccountRef): Promise<void> {
  await client.call(ClientCommand.SyncTrustlineOut, peer, noArgs.encode({}));
}

/** Client command 3: the peer's trustline to us. */
export async function getTrustlineIn(client: Client, peer: AccountRef): Promise<TrustlineIn> {
  const body = trustlineInBody.decode(
    await client.call(ClientCommand.GetTrustlineIn, peer, noArgs.encode({})),
  );
  return { amount: body.amount, syncIn: body.syncIn, lastSync: Number(body.lastSync) };
}

/** Client command 4: our trustline to the peer, and whether the peer's server confirmed it. */
export async function getTrustlineOut(client: Client, peer: AccountRef): Promise<TrustlineOut> {
  return trustlineOutBody.decode(
    await client.call(ClientCommand.GetTrustlineOut, peer, noArgs.encode({})),
  );
}
