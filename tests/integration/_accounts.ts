/** Accounts and peers made through the CLI, and the clients their owners use. */

import assert from "node:assert/strict";
import { parseKey } from "../../src/auth/keys.ts";
import { Client, type Exchange } from "../../src/client/client.ts";
import { type CounterStore, MemoryCounterStore } from "../../src/client/counter_store.ts";
import { tcpExchange } from "../../src/client/tcp_exchange.ts";
import type { AccountRef } from "../../src/wire/names.ts";
import { ripple, type RippleResult } from "./_server.ts";

/** A server an account can be created on: its address and datadir (running or not). */
export interface Host {
  readonly address: string;
  readonly datadir: string;
  /** Where clients connect, when it is not `address` (a server behind a proxy). */
  readonly listenAddress?: string;
}

/** An account created through the CLI, with what its owner's client needs. */
export interface Account {
  readonly username: string;
  /** Its server's address, as peers name it. */
  readonly address: string;
  /** Where its client connects. */
  readonly server: string;
  readonly datadir: string;
  /** `username@address`, as peers name it. */
  readonly ref: AccountRef;
  /** The client key `ripple account add` printed. */
  readonly key: Uint8Array;
  /** The server's copy of the key, usable as `ripple client --key-file`. */
  readonly keyFile: string;
}

/**
 * Creates `username` on `host` with `ripple account add`.
 *
 * @example
 * ```ts ignore
 * const alice = await addAccount(server, "alice");
 * ```
 */
export async function addAccount(host: Host, username: string): Promise<Account> {
  const result = await ripple(["account", "add", username, "--datadir", host.datadir]);
  assertSucceeded(result, `account add ${username}`);
  return {
    username,
    address: host.address,
    server: host.listenAddress ?? host.address,
    datadir: host.datadir,
    ref: { username, address: host.address },
    key: parseKey(lastLine(result.stdout)),
    keyFile: `${host.datadir}/ripple/accounts/${username}/secretkey.txt`,
  };
}

/**
 * Makes `a` and `b` peers with `ripple peer add`: `a`'s side generates the key, `b`'s side
 * is given it. Returns the shared key.
 */
export async function addPeers(a: Account, b: Account): Promise<Uint8Array> {
  const generated = await ripple([
    ...["peer", "add", a.username, `${b.username}@${b.address}`],
    ...["--generate", "--datadir", a.datadir],
  ]);
  assertSucceeded(generated, `peer add ${a.username} ${b.username}@${b.address}`);
  const keyHex = lastLine(generated.stdout);
  const given = await ripple([
    ...["peer", "add", b.username, `${a.username}@${a.address}`],
    ...["--key", keyHex, "--datadir", b.datadir],
  ]);
  assertSucceeded(given, `peer add ${b.username} ${a.username}@${a.address}`);
  return parseKey(keyHex);
}

/** Overrides for {@linkcode clientFor}. */
export interface ClientOverrides {
  counters?: CounterStore;
  exchange?: Exchange;
}

/**
 * The client library for `account`, with counters in memory: the server's replay answer
 * moves them past what an earlier client used.
 */
export function clientFor(account: Account, overrides: ClientOverrides = {}): Client {
  return new Client({
    server: account.server,
    account: account.username,
    key: account.key,
    counters: overrides.counters ?? new MemoryCounterStore(),
    exchange: overrides.exchange ?? tcpExchange(10_000),
  });
}

/**
 * Runs `ripple client` as `account`, keeping its counter in `counterFile`.
 *
 * @example
 * ```ts ignore
 * const { code, stdout } = await rippleClient(alice, counterFile, ["--json", "get-trustline-out", "bob@127.0.0.3:40000"]);
 * ```
 */
export function rippleClient(
  account: Account,
  counterFile: string,
  args: string[],
): Promise<RippleResult> {
  return ripple([
    ...["client", "--server", account.server, "--account", account.username],
    ...["--key-file", account.keyFile, "--counter-file", counterFile],
    ...args,
  ]);
}

function assertSucceeded(result: RippleResult, what: string): void {
  assert.equal(result.code, 0, `ripple ${what} failed:\n${result.stdout}${result.stderr}`);
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1)!;
}
