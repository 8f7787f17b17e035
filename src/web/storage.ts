/**
 * What the wallet keeps in the browser's IndexedDB: the account and its key (a
 * non-extractable `CryptoKey`: the page can sign with it but never read it back), and the
 * account's request counter.
 */

import type { CounterStore } from "../client/counter_store.ts";

/** The member's account as stored on this device. */
export interface StoredAccount {
  username: string;
  key: CryptoKey;
}

const DB_NAME = "ripple-wallet";
const DB_VERSION = 1;
const ACCOUNT_STORE = "account";
const COUNTER_STORE = "counters";
/** The one record of the account store: a browser profile holds one account per server. */
const ACCOUNT_RECORD = "me";

/**
 * Opens (creating on first use) the wallet's database.
 *
 * @example
 * ```ts ignore
 * const db = await openWalletDb();
 * const account = await loadAccount(db);
 * ```
 */
export function openWalletDb(): Promise<IDBDatabase> {
  const opening = indexedDB.open(DB_NAME, DB_VERSION);
  opening.onupgradeneeded = () => {
    opening.result.createObjectStore(ACCOUNT_STORE);
    opening.result.createObjectStore(COUNTER_STORE);
  };
  return done(opening);
}

/** The stored account, or null when the member has not given a key on this device. */
export async function loadAccount(db: IDBDatabase): Promise<StoredAccount | null> {
  const tx = db.transaction(ACCOUNT_STORE, "readonly");
  const record = await done(tx.objectStore(ACCOUNT_STORE).get(ACCOUNT_RECORD));
  return record === undefined ? null : record as StoredAccount;
}

/** Stores the account and its key, replacing any other. */
export async function saveAccount(db: IDBDatabase, account: StoredAccount): Promise<void> {
  const tx = db.transaction(ACCOUNT_STORE, "readwrite", { durability: "strict" });
  tx.objectStore(ACCOUNT_STORE).put(account, ACCOUNT_RECORD);
  await committed(tx);
}

/**
 * Removes the account and its key from this device. The counter stays: it is no secret,
 * and keeping it spares a replay round trip if the key is given again.
 */
export async function forgetAccount(db: IDBDatabase): Promise<void> {
  const tx = db.transaction(ACCOUNT_STORE, "readwrite", { durability: "strict" });
  tx.objectStore(ACCOUNT_STORE).delete(ACCOUNT_RECORD);
  await committed(tx);
}

/**
 * The account's request counter in IndexedDB. Each counter is taken in one read-write
 * transaction, which the browser runs one at a time across every tab of the origin, so two
 * tabs never send the same counter; and the transaction is durable before the counter is
 * used, so a crash cannot make the page reuse one. (The wallet also sends one request at a
 * time across its tabs, so their counters arrive in order; when the CLI has used the
 * account meanwhile, the server answers `replay` and the client library moves past it.)
 */
export class IdbCounterStore implements CounterStore {
  #db: IDBDatabase;
  #username: string;

  constructor(db: IDBDatabase, username: string) {
    this.#db = db;
    this.#username = username;
  }

  next(): Promise<number> {
    return this.#update((last) => last + 1);
  }

  async recover(lastAccepted: number): Promise<void> {
    await this.#update((last) => Math.max(last, lastAccepted));
  }

  async #update(change: (last: number) => number): Promise<number> {
    const tx = this.#db.transaction(COUNTER_STORE, "readwrite", { durability: "strict" });
    const store = tx.objectStore(COUNTER_STORE);
    let counter = 0;
    const reading = store.get(this.#username);
    reading.onsuccess = () => {
      counter = change(typeof reading.result === "number" ? reading.result : 0);
      store.put(counter, this.#username);
    };
    await committed(tx);
    return counter;
  }
}

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("the transaction was aborted"));
  });
}
