/** Chains of accounts on real servers, and payments between their ends, for the path and payment tests. */

import assert from "node:assert/strict";
import * as api from "../../src/client/commands.ts";
import type { Client } from "../../src/client/client.ts";
import { type Account, addAccount, addPeers, clientFor, type Host } from "./_accounts.ts";
import { waitFor } from "./_wait.ts";

/** The accounts of a chain and their clients, `accounts[0]` the buyer's end. */
export interface Chain {
  accounts: Account[];
  clients: Client[];
}

/**
 * One account per host (named a, b, c, …), each a peer of the next, each creditor trusting
 * its debtor for `credit[i]`; returns once every trustline is confirmed by the debtor's server.
 */
export async function chain(hosts: Host[], credit: bigint[]): Promise<Chain> {
  const accounts: Account[] = [];
  for (const [i, host] of hosts.entries()) {
    accounts.push(await addAccount(host, String.fromCharCode(97 + i)));
  }
  for (let i = 0; i + 1 < accounts.length; i++) await addPeers(accounts[i], accounts[i + 1]);
  const clients = accounts.map((account) => clientFor(account));
  for (let i = 0; i + 1 < accounts.length; i++) {
    await api.setTrustline(clients[i + 1], accounts[i].ref, credit[i]);
  }
  for (let i = 0; i + 1 < accounts.length; i++) {
    await waitFor(
      async () => (await api.getTrustlineIn(clients[i], accounts[i + 1].ref)).amount === credit[i],
      10_000,
    );
  }
  return { accounts, clients };
}

/** The seller (last account) expects `amount` from the buyer (first), who then pays. Returns the id. */
export async function pay(chain: Chain, amount: bigint): Promise<Uint8Array> {
  const id = crypto.getRandomValues(new Uint8Array(32));
  const [buyer, seller] = [0, chain.accounts.length - 1];
  await api.newPaymentIn(chain.clients[seller], chain.accounts[buyer].ref, id, amount);
  await api.newPaymentOut(chain.clients[buyer], chain.accounts[seller].ref, id, amount);
  return id;
}

/** Waits until the payment is completed or failed at `client`'s account, and returns the state. */
export async function outcome(
  client: Client,
  id: Uint8Array,
  timeoutMs = 20_000,
): Promise<api.PaymentStatus> {
  const status = await api.waitForPayment(client, id, { timeoutMs, intervalMs: 50 });
  assert.ok(api.isFinalState(status.state), `payment still ${api.PAYMENT_STATES[status.state]}`);
  return status;
}

/**
 * Both sides of every pair of the chain report the same balance (`expected[i]` owed by
 * account i to account i+1) and no locks.
 */
export async function assertBooks(chain: Chain, expected: bigint[]): Promise<void> {
  for (let i = 0; i + 1 < chain.accounts.length; i++) {
    const debtor = await api.getBalance(chain.clients[i], chain.accounts[i + 1].ref);
    const creditor = await api.getBalance(chain.clients[i + 1], chain.accounts[i].ref);
    assert.deepEqual(
      [
        debtor.balance,
        creditor.balance,
        debtor.lockedIn + debtor.lockedOut,
        creditor.lockedIn + creditor.lockedOut,
      ],
      [-expected[i], expected[i], 0n, 0n],
      `books of ${chain.accounts[i].username} and ${chain.accounts[i + 1].username}`,
    );
  }
}
