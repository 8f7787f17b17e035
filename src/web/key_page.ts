/** The key page: the member gives the account name and key once; the key becomes a non-extractable WebCrypto key in IndexedDB. */

import { importHmacKey } from "../auth/hmac.ts";
import { parseKey } from "../auth/keys.ts";
import { isUsername, USERNAME_RULES } from "../wire/names.ts";
import { byId, onSubmit, type Page, type Wallet } from "./dom.ts";
import { keyLink } from "./key_link.ts";
import { saveAccount, type StoredAccount } from "./storage.ts";

/** What the key page needs from the wallet: a way to try an account, and what to do once it works. */
export interface KeyPageOptions {
  db: IDBDatabase;
  /** The wallet of `account`, once its server has answered a signed request with its key. */
  connect(account: StoredAccount): Promise<Wallet>;
  /** The account works and is stored: show its wallet. */
  opened(wallet: Wallet): void;
}

/** The key page, for a first visit or after the key was forgotten. */
export function keyPage(options: KeyPageOptions): Page & { fromLink(hash: string): void } {
  const form = byId("key-form", HTMLFormElement);
  const accountInput = byId("key-account", HTMLInputElement);
  const keyInput = byId("key-key", HTMLInputElement);
  const submit = async () => {
    const username = accountInput.value.trim();
    if (!isUsername(username)) {
      throw new Error(`that is not an account name: ${USERNAME_RULES}`);
    }
    const raw = parseKey(keyInput.value);
    const account = { username, key: await importHmacKey(raw) };
    raw.fill(0);
    // Try the key before keeping it: a typing mistake is caught here, not at the first payment.
    const wallet = await options.connect(account);
    await saveAccount(options.db, account);
    keyInput.value = "";
    options.opened(wallet);
  };
  onSubmit(form, submit);
  return {
    enter() {
      accountInput.focus();
    },
    fromLink(hash: string) {
      const link = keyLink(hash);
      if (link === null) return;
      // The key must not stay in the address bar or the history.
      history.replaceState(null, "", location.pathname);
      accountInput.value = link.account;
      keyInput.value = link.key;
      form.requestSubmit();
    },
  };
}
