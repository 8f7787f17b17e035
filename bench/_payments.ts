/** Payments along chains of accounts across real servers, one account per server. */

import * as api from "../src/client/commands.ts";
import type { Client } from "../src/client/client.ts";
import { reasonText } from "../src/wire/reasons.ts";
import { waitFor } from "../tests/integration/_wait.ts";
import { addAccounts, addPeers, type BenchAccount, clientOf } from "./_fixtures.ts";
import { type Env, finish, load, type Measured, type Peak, site, start } from "./_measure.ts";

const PAYMENT_POLL_MS = 5;

/** One chain of accounts, one per server, buyer first; each creditor trusts its debtor. */
export interface Chain {
  accounts: BenchAccount[];
  clients: Client[];
}

/** A payment measurement: hops, payments in flight, result. */
export interface PaymentResult {
  hops: number;
  concurrency: number;
  /** The buyer walked to the seller's routing label (else it flooded). */
  walk: boolean;
  measurement: Measured;
}

const CREDIT = 1_000_000_000_000n;

/**
 * Payments of 1 along chains of `env.paymentHops` hops (1, 3 and 6 by default) across that
 * many + 1 servers: the seller announces it (client 6), the buyer pays (client 5), both
 * poll (client 7) until it ends. One at a time, then `env.paymentConcurrency` at once.
 */
export async function payments(env: Env): Promise<{ results: PaymentResult[]; peaks: Peak[] }> {
  const sites = [];
  const hopsList = env.paymentHops;
  for (let s = 0; s <= Math.max(...hopsList); s++) sites.push(await site(env, `127.0.0.${31 + s}`));
  const chains = new Map<number, Chain[]>();
  for (const hops of hopsList) {
    const list = [];
    for (let c = 0; c < env.paymentConcurrency; c++) {
      const accounts = [];
      for (let s = 0; s <= hops; s++) {
        accounts.push((await addAccounts(sites[s], [`h${hops}c${c}n${s}`]))[0]);
      }
      for (let s = 0; s < hops; s++) await addPeers(accounts[s], accounts[s + 1]);
      list.push({ accounts, clients: accounts.map((account) => clientOf(account)) });
    }
    chains.set(hops, list);
  }
  const servers = await Promise.all(sites.map((at) => start(env, at)));
  env.progress("payments: trustlines along every chain");
  await Promise.all([...chains.values()].flat().map(trustChain));

  const results: PaymentResult[] = [];
  for (const hops of hopsList) {
    for (const concurrency of new Set([1, env.paymentConcurrency])) {
      const list = chains.get(hops)!;
      for (const walk of env.paymentWalk ? [false, true] : [false]) {
        env.progress(`payments: ${hops} hops, ${concurrency} at once${walk ? ", walk" : ""}`);
        const measurement = await load(
          env,
          concurrency,
          servers,
          (i) => payOnce(list[i], [], walk),
        );
        results.push({ hops, concurrency, walk, measurement });
      }
    }
  }
  return { results, peaks: await finish(servers, "payments") };
}

export async function trustChain(chain: Chain): Promise<void> {
  const { accounts, clients } = chain;
  for (let s = 0; s + 1 < accounts.length; s++) {
    await api.setTrustline(clients[s + 1], accounts[s].ref, CREDIT);
  }
  for (let s = 0; s + 1 < accounts.length; s++) {
    await waitFor(
      async () => (await api.getTrustlineIn(clients[s], accounts[s + 1].ref)).amount === CREDIT,
      30_000,
      `the trustline of ${accounts[s + 1].ref.username} to ${accounts[s].ref.username}`,
    );
  }
}

/**
 * One payment along `chain`; `marks`, if given, gets the time each end saw it completed.
 * With `walk`, as `ripple client receive` does: the seller asks for its routing label
 * (client 20) before client 6 and the buyer passes it with client 5, so the buyer walks.
 */
export async function payOnce(chain: Chain, marks?: number[], walk = false): Promise<void> {
  const id = crypto.getRandomValues(new Uint8Array(32));
  const [buyer, seller] = [0, chain.accounts.length - 1];
  const label = walk ? await api.getLabel(chain.clients[seller]) : undefined;
  await api.newPaymentIn(chain.clients[seller], chain.accounts[buyer].ref, id, 1n);
  await api.newPaymentOut(chain.clients[buyer], chain.accounts[seller].ref, id, 1n, label);
  for (const client of [chain.clients[buyer], chain.clients[seller]]) {
    const status = await api.waitForPayment(client, id, {
      timeoutMs: 30_000,
      intervalMs: PAYMENT_POLL_MS,
    });
    if (status.state !== 6) {
      throw new Error(
        `payment ${api.PAYMENT_STATES[status.state]}: ${reasonText(status.reason)}`,
      );
    }
    marks?.push(Date.now());
  }
}
