/** The peers page (both trustlines and the balance of each peer, in words) and the trustline page. */

import type { Client } from "../client/client.ts";
import { getTrustlineOut, listPeers, type PeerSummary, setTrustline } from "../client/commands.ts";
import { formatAccountRef, NameError, parseAccountRef } from "../wire/names.ts";
import { formatAmount, parseAmount } from "../client/amounts.ts";
import { byId, onSubmit, type Page, sleep, type Wallet } from "./dom.ts";
import { allEntries, tablePage } from "./table_page.ts";
import { standing } from "./words.ts";

/** Every peer of the account, page after page of client command 9. */
export function allPeers(client: Client): Promise<PeerSummary[]> {
  return allEntries(async (offset) => {
    const page = await listPeers(client, offset);
    return { total: page.total, entries: page.peers };
  });
}

/** The peers page: who the member's peers are, what each side trusts the other for, who owes whom. */
export function peersPage(wallet: Wallet): Page {
  return tablePage("peers", () => allPeers(wallet.client), (p) => {
    const name = formatAccountRef(p.peer);
    return [
      name,
      formatAmount(p.trustlineOut, wallet.display),
      formatAmount(p.trustlineIn, wallet.display),
      standing(p.balance, name, wallet.display),
    ];
  });
}

/** How long the trustline page waits for the peer's server to confirm a change. */
const CONFIRM_WAIT_MS = 10_000;

/** The trustline page: set how much a peer may owe the member, and see the peer's server confirm it. */
export function trustlinePage(wallet: Wallet): Page {
  const form = byId("trustline-form", HTMLFormElement);
  const peerInput = byId("trustline-peer", HTMLInputElement);
  const amountInput = byId("trustline-amount", HTMLInputElement);
  const names = byId("peer-names", HTMLDataListElement);
  const status = byId("trustline-status", HTMLParagraphElement);
  let shown = 0;
  onSubmit(form, async () => {
    status.textContent = "";
    const peer = peerArg(peerInput.value);
    const amount = parseAmount(amountInput.value, wallet.display);
    await setTrustline(wallet.client, peer, amount);
    const name = formatAccountRef(peer);
    const visit = ++shown;
    status.textContent = `Trustline to ${name} set to ${
      formatAmount(amount, wallet.display)
    }; waiting for ${name}'s server to confirm it.`;
    const end = Date.now() + CONFIRM_WAIT_MS;
    while (visit === shown && Date.now() < end) {
      const line = await getTrustlineOut(wallet.client, peer);
      if (line.syncOut === line.counter) {
        status.textContent = `Trustline to ${name}: ${
          formatAmount(line.amount, wallet.display)
        }, confirmed by ${name}'s server.`;
        return;
      }
      await sleep(250);
    }
    if (visit === shown) {
      status.textContent = `Trustline to ${name} set; ${name}'s server has not confirmed it yet. ` +
        "Your server keeps sending it until it does.";
    }
  });
  return {
    async enter() {
      status.textContent = "";
      const peers = await allPeers(wallet.client).catch(() => []);
      names.replaceChildren(...peers.map((p) => new Option(formatAccountRef(p.peer))));
    },
    leave() {
      shown++;
    },
  };
}

/** A peer typed into a form, `name@server`. */
export function peerArg(text: string): ReturnType<typeof parseAccountRef> {
  try {
    return parseAccountRef(text.trim());
  } catch (error) {
    if (error instanceof NameError) throw new NameError(`${error.message}; a peer is name@server`);
    throw error;
  }
}
