import assert from "node:assert/strict";
import * as api from "../../src/client/commands.ts";
import { readBooks } from "../../src/store/books.ts";
import { Tx } from "../../src/store/tx.ts";
import type { AccountRef } from "../../src/wire/names.ts";
import { chain, eventually, LocalNetwork } from "../support/local_network.ts";

const COMPLETED = 6;
const FAILED = 7;
const SERVER_LOCK = 134;

/** Every pair agrees on its balance, no lock is left, and the balances sum to zero. */
async function booksAgree(net: LocalNetwork, accounts: AccountRef[]): Promise<bigint[]> {
  const read = (account: AccountRef, peer: AccountRef) =>
    readBooks(new Tx(net.servers.get(account.address)!.node.store), account.username, peer);
  const balances: bigint[] = [];
  for (let i = 0; i + 1 < accounts.length; i++) {
    const debtor = await read(accounts[i], accounts[i + 1]);
    const creditor = await read(accounts[i + 1], accounts[i]);
    assert.equal(
      debtor.lockedOut + debtor.lockedIn + creditor.lockedIn + creditor.lockedOut,
      0n,
      "locks left",
    );
    assert.equal(debtor.balance, -creditor.balance, `pair ${i} disagrees`);
    balances.push(creditor.balance);
  }
  return balances;
}

async function outcome(net: LocalNetwork, account: AccountRef, id: Uint8Array): Promise<number> {
  return await eventually(async () => {
    const { state } = await api.getPayment(net.client(account), id);
    return state === COMPLETED || state === FAILED ? state : undefined;
  }, 20_000);
}

async function quiet(net: LocalNetwork, accounts: AccountRef[]): Promise<bigint[]> {
  return await eventually(async () => {
    try {
      return await booksAgree(net, accounts);
    } catch {
      return undefined;
    }
  }, 20_000);
}

Deno.test("payments over links that lose a third of all datagrams end with agreed books", async () => {
  await using net = new LocalNetwork();
  const accounts = await chain(net, [100n, 100n]);
  const [a, , c] = accounts;
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  net.drop = () => random() < 0.33;
  let paid = 0n;
  for (let i = 0; i < 5; i++) {
    const id = crypto.getRandomValues(new Uint8Array(32));
    await api.newPaymentIn(net.client(c), a, id, 10n);
    await api.newPaymentOut(net.client(a), c, id, 10n);
    const buyer = await outcome(net, a, id);
    assert.equal(await outcome(net, c, id), buyer, "buyer and seller disagree on the outcome");
    if (buyer === COMPLETED) paid += 10n;
  }
  net.drop = () => false;
  assert.deepEqual(await quiet(net, accounts), [paid, paid]);
});

// A hop receives six payment datagrams: lock, locked, commit, committed, finalize, finalized.
for (let k = 1; k <= 6; k++) {
  Deno.test(`the middle server crashing at its datagram ${k} of a payment leaves agreed books`, async () => {
    await using net = new LocalNetwork();
    const accounts = await chain(net, [100n, 100n]);
    const [a, b, c] = accounts;
    let seen = 0;
    let crashed = false;
    net.drop = (_from, to, bytes) => {
      if (to !== b.address || crashed) return false;
      if (bytes[0] >= SERVER_LOCK) seen++;
      if (seen < k) return false;
      crashed = true;
      net.crash(b.address);
      setTimeout(() => net.start(b.address), 30);
      return true;
    };
    const id = crypto.getRandomValues(new Uint8Array(32));
    await api.newPaymentIn(net.client(c), a, id, 10n);
    await api.newPaymentOut(net.client(a), c, id, 10n);
    const buyer = await outcome(net, a, id);
    assert.equal(await outcome(net, c, id), buyer);
    const expected = buyer === COMPLETED ? 10n : 0n;
    assert.deepEqual(await quiet(net, accounts), [expected, expected]);
  });
}
