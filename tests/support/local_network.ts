/** Servers in one process on in-memory disks, delivering datagrams directly: fast protocol tests without sockets. */

import assert from "node:assert/strict";
import { WebCryptoMac } from "../../src/auth/hmac.ts";
import { generateKey, parseKey } from "../../src/auth/keys.ts";
import { Client } from "../../src/client/client.ts";
import * as api from "../../src/client/commands.ts";
import { MemoryCounterStore } from "../../src/client/counter_store.ts";
import type { Limits } from "../../src/core/config.ts";
import { Logger } from "../../src/core/log.ts";
import { addPeer, createAccount } from "../../src/store/accounts.ts";
import { peerPath } from "../../src/store/paths.ts";
import { MemoryFileSystem } from "../../src/store/memory_fs.ts";
import { Node } from "../../src/server/node.ts";
import type { Transport } from "../../src/server/transport.ts";
import { encodeDatagram, SIGNATURE_SIZE, signedBytes } from "../../src/wire/datagram.ts";
import type { AccountRef } from "../../src/wire/names.ts";

/** One server of a {@linkcode LocalNetwork}. */
export interface LocalServer {
  address: string;
  disk: MemoryFileSystem;
  node: Node;
  logs: string[];
}

const MAC = new WebCryptoMac();

/** Fast time-outs so tests of time-outs finish quickly. */
export const FAST_LIMITS: Partial<Limits> = {
  retryBaseMs: 20,
  retryMaxMs: 200,
  probeTimeoutMs: 50,
  stepRetryBaseMs: 20,
  stepRetryMaxMs: 200,
  searchTimeoutMs: 2_000,
  lockTimeoutMs: 2_000,
  commitQueryMs: 500,
  // Queries back off to a minute by default: under heavy loss a test would wait that long.
  queryRetryMaxMs: 500,
};

/**
 * A network of servers in this process. `drop` decides per datagram whether it is lost,
 * so tests can cut links. Close it with `await using`.
 */
export class LocalNetwork implements AsyncDisposable {
  readonly servers = new Map<string, LocalServer>();
  readonly keys = new Map<string, Uint8Array>();
  drop: (from: string, to: string, bytes: Uint8Array) => boolean = () => false;
  #limits: Partial<Limits>;

  constructor(limits: Partial<Limits> = FAST_LIMITS) {
    this.#limits = limits;
  }

  /** Starts (or restarts on its existing disk) the server at `address`. */
  async start(address: string): Promise<LocalServer> {
    const disk = this.#disks.get(address) ?? new MemoryFileSystem();
    this.#disks.set(address, disk);
    const logs = this.#logs.get(address) ?? [];
    this.#logs.set(address, logs);
    const transport: Transport = {
      send: (to, bytes) => {
        const target = this.servers.get(to);
        if (target === undefined || this.drop(address, to, bytes)) {
          return Promise.reject(new Error(`cannot reach ${to}`));
        }
        target.node.receive(bytes.slice()).catch(() => {});
        return Promise.resolve();
      },
    };
    const node = await Node.open({
      fs: disk.view(),
      datadir: "/data",
      address,
      transport,
      limits: this.#limits,
      logger: new Logger({ level: "debug", sink: (line) => logs.push(`${address} ${line}`) }),
    });
    const server = { address, disk, node, logs };
    this.servers.set(address, server);
    return server;
  }

  /** Adds an account on a running server; returns its client key. */
  async account(ref: AccountRef): Promise<Uint8Array> {
    const key = generateKey();
    await createAccount(this.#server(ref.address).disk.view(), "/data/ripple", ref.username, key);
    this.keys.set(`${ref.username}@${ref.address}`, key);
    return key;
  }

  /** Makes two accounts peers with a fresh shared key. */
  async peers(a: AccountRef, b: AccountRef): Promise<void> {
    const key = generateKey();
    await addPeer(this.#server(a.address).disk.view(), "/data/ripple", a.username, b, key);
    await addPeer(this.#server(b.address).disk.view(), "/data/ripple", b.username, a, key);
  }

  #clients = new Map<string, Client>();
  #forged = 1_000_000;

  /**
   * A server datagram from `from` to `to`, signed with the key the two share, as a hostile
   * server holding that key could send it: with a counter far above the server's own.
   */
  async forge(
    from: AccountRef,
    to: AccountRef,
    command: number,
    args: Uint8Array,
  ): Promise<Uint8Array> {
    const store = this.#server(from.address).node.store;
    const key = parseKey((await store.read(peerPath(from.username, to, "secretkey.txt")))!);
    const fields = {
      command,
      username: to.username,
      peerUsername: from.username,
      peerAddress: from.address,
      arguments: args,
      counter: this.#forged++,
    };
    const unsigned = encodeDatagram(fields, new Uint8Array(SIGNATURE_SIZE));
    return encodeDatagram(fields, await MAC.sign(key, signedBytes(unsigned)));
  }

  /** A {@linkcode forge}d datagram, handled by `to`'s server and durable before this returns. */
  async inject(from: AccountRef, to: AccountRef, command: number, args: Uint8Array): Promise<void> {
    const node = this.#server(to.address).node;
    await node.receive(await this.forge(from, to, command, args));
    await node.store.barrier();
  }

  /** The client of `ref`, talking to its server directly (one per account, so counters follow on). */
  client(ref: AccountRef): Client {
    const name = `${ref.username}@${ref.address}`;
    const existing = this.#clients.get(name);
    if (existing) return existing;
    const client = new Client({
      server: ref.address,
      account: ref.username,
      key: this.keys.get(`${ref.username}@${ref.address}`)!,
      counters: new MemoryCounterStore(),
      exchange: async (address, request) => (await this.#server(address).node.receive(request))!,
    });
    this.#clients.set(name, client);
    return client;
  }

  /** Stops a server as a crash would: its node is dropped without closing; unsynced data is lost. */
  crash(address: string): LocalServer {
    const server = this.#server(address);
    this.servers.delete(address);
    server.disk.crash();
    this.#crashed.push(server.node);
    return server;
  }

  #crashed: Node[] = [];
  #disks = new Map<string, MemoryFileSystem>();
  #logs = new Map<string, string[]>();

  #server(address: string): LocalServer {
    const server = this.servers.get(address);
    if (server === undefined) throw new Error(`no server ${address}`);
    return server;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const server of this.servers.values()) await server.node.close();
    // A crashed node's timers must still be stopped for the test's leak check.
    for (const node of this.#crashed) await node.close().catch(() => {});
  }
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 5000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A chain a@s1 → b@s2 → …, one account per server, as long as `credit` has trustlines,
 * each creditor trusting its debtor for `credit[i]`; returns once every one is confirmed.
 */
export async function chain(net: LocalNetwork, credit: bigint[]): Promise<AccountRef[]> {
  const accounts = "abcdefgh".slice(0, credit.length + 1).split("").map((name, i) => ({
    username: name,
    address: `s${i + 1}.test`,
  }));
  for (const account of accounts) await net.start(account.address);
  for (const account of accounts) await net.account(account);
  for (let i = 0; i + 1 < accounts.length; i++) {
    await net.peers(accounts[i], accounts[i + 1]);
    await api.setTrustline(net.client(accounts[i + 1]), accounts[i], credit[i]);
  }
  for (let i = 0; i + 1 < accounts.length; i++) {
    const creditor = net.client(accounts[i + 1]);
    await eventually(async () => {
      const line = await api.getTrustlineIn(net.client(accounts[i]), accounts[i + 1]);
      return line.amount === credit[i] ? true : undefined;
    });
    assert.equal((await api.getTrustlineOut(creditor, accounts[i])).amount, credit[i]);
  }
  return accounts;
}
