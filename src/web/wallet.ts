/**
 * The web wallet's entry point: finds the member's key in IndexedDB (or asks for it), then
 * shows one page at a time by the address's fragment (`#peers`, `#payment/ID`, …). It runs
 * in the browser; `deno task bundle` turns it and everything it imports into `wallet.js`.
 */

import { describeUnit } from "../client/amounts.ts";
import { Client, ClientError } from "../client/client.ts";
import { serverInfo } from "../client/commands.ts";
import { formatAccountRef } from "../wire/names.ts";
import { Status } from "../wire/response.ts";
import { byId, type Page, type Wallet } from "./dom.ts";
import { keyLink } from "./key_link.ts";
import { keyPage } from "./key_page.ts";
import { paymentPage, paymentsPage, payPage, receivePage } from "./payment_pages.ts";
import { peersPage, trustlinePage } from "./peers_page.ts";
import { fetchWalletInfo, httpExchange, type WalletInfo } from "./server_link.ts";
import {
  forgetAccount,
  IdbCounterStore,
  loadAccount,
  openWalletDb,
  type StoredAccount,
} from "./storage.ts";
import { errorText } from "./words.ts";

/** How long one request to the server may take. */
const REQUEST_TIMEOUT_MS = 10_000;
const PAGES = ["peers", "trustline", "receive", "pay", "payments", "payment"] as const;
const HOME = "peers";

async function start(): Promise<void> {
  const loading = byId("loading", HTMLParagraphElement);
  let info: WalletInfo;
  let db: IDBDatabase;
  try {
    [info, db] = await Promise.all([fetchWalletInfo(REQUEST_TIMEOUT_MS), openWalletDb()]);
  } catch (caught) {
    loading.textContent = `The wallet cannot start. ${errorText(caught)}`;
    return;
  }
  const connect = async (account: StoredAccount): Promise<Wallet> => {
    const client = new Client({
      server: info.address,
      account: account.username,
      key: account.key,
      counters: new IdbCounterStore(db, account.username),
      exchange: httpExchange(REQUEST_TIMEOUT_MS),
      // One exchange at a time across the account's tabs: their counters arrive in order.
      exclusive: (exchange) => navigator.locks.request(`ripple-${account.username}`, exchange),
    });
    // Signed with the account's key, so it also proves the key.
    const { display } = await serverInfo(client);
    return { client, me: { username: account.username, address: info.address }, info, display };
  };
  const key = keyPage({ db, connect, opened: (wallet) => showWallet(wallet, db) });
  const link = keyLink(location.hash);
  const stored = link === null ? await loadAccount(db) : null;
  if (stored !== null) {
    try {
      const wallet = await connect(stored);
      loading.hidden = true;
      return showWallet(wallet, db);
    } catch (caught) {
      // A key the server no longer takes is asked for again; anything else is said.
      if (!(caught instanceof ClientError && caught.status === Status.Unauthorized)) {
        loading.textContent = `The wallet cannot reach your server. ${errorText(caught)}`;
        return;
      }
      byId("key-error", HTMLParagraphElement).textContent = errorText(caught);
    }
  }
  loading.hidden = true;
  show("key", key, "");
  if (link !== null) key.fromLink(location.hash);
}

/** Shows the wallet of an opened account and routes by the fragment from then on. */
function showWallet(wallet: Wallet, db: IDBDatabase): void {
  const pages: Record<(typeof PAGES)[number], Page> = {
    peers: peersPage(wallet),
    trustline: trustlinePage(wallet),
    receive: receivePage(wallet),
    pay: payPage(wallet),
    payments: paymentsPage(wallet),
    payment: paymentPage(wallet),
  };
  byId("me", HTMLParagraphElement).textContent = formatAccountRef(wallet.me);
  for (const help of document.querySelectorAll(".unit-help")) {
    help.textContent = `In ${describeUnit(wallet.display)}.`;
  }
  for (const id of ["me", "nav", "forget"]) byId(id, HTMLElement).hidden = false;
  byId("forget", HTMLButtonElement).addEventListener("click", async () => {
    if (!confirm("Forget the key on this device? You will need it again to use the wallet here.")) {
      return;
    }
    await forgetAccount(db);
    location.hash = "";
    location.reload();
  });
  const route = () => {
    const [name, arg = ""] = location.hash.replace(/^#/, "").split("/");
    const known = (PAGES as readonly string[]).includes(name)
      ? name as (typeof PAGES)[number]
      : HOME;
    show(known, pages[known], arg);
  };
  addEventListener("hashchange", route);
  route();
}

let current: Page | null = null;

/** Hides every page but `name`'s, marks its link as current, and moves the focus to its heading. */
function show(name: string, page: Page, arg: string): void {
  current?.leave?.();
  current = page;
  for (const section of document.querySelectorAll<HTMLElement>("main > section")) {
    section.hidden = section.id !== `page-${name}`;
  }
  for (const link of document.querySelectorAll<HTMLAnchorElement>("nav a")) {
    if (link.hash === `#${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const heading = document.querySelector<HTMLElement>(`#page-${name} h1`);
  document.title = `${heading?.textContent ?? "ripple"} · ripple wallet`;
  heading?.focus();
  void page.enter(arg);
}

start();
