/** Random networks for the simulator: servers, accounts spread over them, peers with shared keys. */

import { addPeer, createAccount } from "../store/accounts.ts";
import { writeDurableBatch } from "../store/durable.ts";
import { peerPath } from "../store/paths.ts";
import { type AccountRef, formatAccountRef } from "../wire/names.ts";
import type { Random } from "./random.ts";
import { SIM_DATADIR, type SimWorld } from "./world.ts";

/** One simulated account and its client key. */
export interface SimAccount {
  ref: AccountRef;
  name: string;
  key: Uint8Array;
  /** Indexes of its peers in {@linkcode Topology.accounts}. */
  peers: number[];
}

/** What was generated. */
export interface Topology {
  addresses: string[];
  accounts: SimAccount[];
  /** Each peer pair once, lower index first. */
  pairs: [number, number][];
  /** The key each pair shares, by `low high` index. */
  keys: Map<string, Uint8Array>;
}

/** Sizes of a generated network. */
export interface TopologyOptions {
  servers: number;
  accounts: number;
  /** Average number of peers per account. */
  degree: number;
}

const ROOT = `${SIM_DATADIR}/ripple`;

/**
 * Adds servers to the world and writes accounts and peers onto their disks (before the
 * servers start). Each account gets peers at random, about `degree` on average, on any
 * server; every account has at least one.
 */
export async function generateTopology(
  world: SimWorld,
  random: Random,
  options: TopologyOptions,
): Promise<Topology> {
  const addresses = Array.from({ length: options.servers }, (_, i) => `s${i}.sim`);
  for (const address of addresses) world.addServer(address);
  const accounts: SimAccount[] = [];
  for (let i = 0; i < options.accounts; i++) {
    const ref = { username: `u${i}`, address: addresses[i % addresses.length] };
    const key = random.bytes(32);
    await createAccount(world.servers.get(ref.address)!.disk.view(), ROOT, ref.username, key);
    accounts.push({ ref, name: formatAccountRef(ref), key, peers: [] });
  }
  const pairs: [number, number][] = [];
  const keys = new Map<string, Uint8Array>();
  const link = async (a: number, b: number) => {
    const [low, high] = a < b ? [a, b] : [b, a];
    if (a === b || keys.has(`${low} ${high}`)) return;
    const key = random.bytes(32);
    keys.set(`${low} ${high}`, key);
    pairs.push([low, high]);
    const [x, y] = [accounts[low], accounts[high]];
    await addPeer(world.servers.get(x.ref.address)!.disk.view(), ROOT, x.ref.username, y.ref, key);
    await addPeer(world.servers.get(y.ref.address)!.disk.view(), ROOT, y.ref.username, x.ref, key);
    x.peers.push(high);
    y.peers.push(low);
  };
  // A ring first, so that every account has a peer, then random chords up to the degree.
  for (let i = 0; i < accounts.length && accounts.length > 1; i++) {
    await link(i, (i + 1) % accounts.length);
  }
  const target = Math.round((options.accounts * options.degree) / 2);
  for (let tries = 0; pairs.length < target && tries < target * 10; tries++) {
    await link(random.int(accounts.length), random.int(accounts.length));
  }
  return { addresses, accounts, pairs, keys };
}

/**
 * Writes a trustline as if it had been set and confirmed long ago: `creditor` trusts
 * `debtor` for `amount`, on both servers' disks, with counter and sync counters at 1.
 * For path-finding runs that need many trustlines in place before they start.
 */
export async function writeSyncedTrustline(
  world: SimWorld,
  creditor: SimAccount,
  debtor: SimAccount,
  amount: bigint,
): Promise<void> {
  const disk = (account: SimAccount) => world.servers.get(account.ref.address)!.disk.view();
  const at = (account: SimAccount, peer: SimAccount, file: Parameters<typeof peerPath>[2]) =>
    `${ROOT}/${peerPath(account.ref.username, peer.ref, file)}`;
  await writeDurableBatch(disk(creditor), [
    [at(creditor, debtor, "trustline_out.txt"), `${amount}\n`],
    [at(creditor, debtor, "counter.txt"), "1\n"],
    [at(creditor, debtor, "sync_out.txt"), "1\n"],
  ]);
  await writeDurableBatch(disk(debtor), [
    [at(debtor, creditor, "trustline_in.txt"), `${amount}\n`],
    [at(debtor, creditor, "sync_in.txt"), "1\n"],
  ]);
}
