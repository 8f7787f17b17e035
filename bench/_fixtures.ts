/**
 * Accounts and peers for the load benchmark, written into datadirs with the store's own
 * library (what `ripple account add` and `ripple peer add` do, without a process each).
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import type { Mac } from "../src/auth/hmac.ts";
import { generateKey, toHex } from "../src/auth/keys.ts";
import { Client } from "../src/client/client.ts";
import { MemoryCounterStore } from "../src/client/counter_store.ts";
import { tcpExchange } from "../src/client/tcp_exchange.ts";
import { addPeer, createAccount } from "../src/store/accounts.ts";
import { SECRET_MODE } from "../src/store/durable.ts";
import { DenoFileSystem } from "../src/store/fs.ts";
import { accountDir, accountPath } from "../src/store/paths.ts";
import type { AccountRef } from "../src/wire/names.ts";

/** A server-to-be: its address (`host:port`) and its datadir. */
export interface Site {
  readonly address: string;
  readonly datadir: string;
}

/** An account written into a site's datadir, with its client key. */
export interface BenchAccount {
  readonly site: Site;
  readonly ref: AccountRef;
  readonly key: Uint8Array;
}

const fs = new DenoFileSystem();

/**
 * Creates accounts `names` on `site`, `parallel` at a time (each creation fsyncs its
 * files; the disk merges concurrent flushes). With `durable` false the files are written
 * as they are (the same files, no fsync), for the tens of thousands the memory
 * measurement needs.
 *
 * @example
 * ```ts ignore
 * const [alice] = await addAccounts({ address: "127.0.0.21:40000", datadir }, ["alice"]);
 * ```
 */
export async function addAccounts(
  site: Site,
  names: string[],
  parallel = 32,
  durable = true,
): Promise<BenchAccount[]> {
  const accounts = names.map((username) => ({
    site,
    ref: { username, address: site.address },
    key: generateKey(),
  }));
  let next = 0;
  const worker = async () => {
    while (next < accounts.length) {
      const account = accounts[next++];
      if (durable) {
        await createAccount(fs, `${site.datadir}/ripple`, account.ref.username, account.key);
      } else {
        await writeAccount(site, account);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, accounts.length) }, worker));
  return accounts;
}

/** The files {@linkcode createAccount} writes, without its fsyncs. */
async function writeAccount(site: Site, account: BenchAccount): Promise<void> {
  const root = `${site.datadir}/ripple`;
  const { username } = account.ref;
  await Deno.mkdir(`${root}/${accountDir(username)}`, { recursive: true });
  await Deno.writeTextFile(`${root}/${accountPath(username, "counter.txt")}`, "0\n");
  await Deno.writeTextFile(
    `${root}/${accountPath(username, "secretkey.txt")}`,
    `${toHex(account.key)}\n`,
    { mode: SECRET_MODE },
  );
}

/** Makes `a` and `b` peers with a fresh shared key, on both sides. */
export async function addPeers(a: BenchAccount, b: BenchAccount): Promise<void> {
  const key = generateKey();
  await addPeer(fs, `${a.site.datadir}/ripple`, a.ref.username, b.ref, key);
  await addPeer(fs, `${b.site.datadir}/ripple`, b.ref.username, a.ref, key);
}

/**
 * HMAC-SHA256 with node:crypto, synchronous: what the load client signs and checks with,
 * so that its own cost (WebCrypto's thread hop on each side of every exchange) is not
 * counted in the server's figures, as a load client in another language would not add it.
 * The servers keep WebCrypto.
 */
export const loadMac: Mac = {
  sign: (key, data) =>
    Promise.resolve(new Uint8Array(createHmac("sha256", key).update(data).digest())),
  verify(key, signature, data) {
    const expected = createHmac("sha256", key).update(data).digest();
    return Promise.resolve(
      signature.length === expected.length && timingSafeEqual(signature, expected),
    );
  },
};

/**
 * The client library for `account`, counters in memory (the account is fresh), signing
 * with {@linkcode loadMac} unless `mac` is given (the client library's default is WebCrypto).
 */
export function clientOf(account: BenchAccount, mac: Mac = loadMac): Client {
  return new Client({
    server: account.site.address,
    account: account.ref.username,
    key: account.key,
    counters: new MemoryCounterStore(),
    mac,
    exchange: tcpExchange(10_000),
  });
}
