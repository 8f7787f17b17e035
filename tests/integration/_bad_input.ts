/**
 * The fixture of the bad-input tests (TCP and HTTP): alice on a server of her own, bob her
 * peer on a server that does not run, and datagrams about the two, written byte by byte.
 */

import assert from "node:assert/strict";
import { MemoryCounterStore } from "../../src/client/counter_store.ts";
import * as commands from "../../src/client/commands.ts";
import { type Account, addAccount, addPeers, clientFor } from "./_accounts.ts";
import type { RawFields } from "./_raw.ts";
import { freePort, type RippleServer, type ServerOptions, startServer } from "./_server.ts";
import { sleep, snapshot, tempDir } from "./_wait.ts";

/** The counter of alice's last accepted request, once {@linkcode settle} has run. */
export const LAST_COUNTER = 7;

/** The two accounts, alice's server, and the root holding both datadirs. */
export interface AliceAndBob extends AsyncDisposable {
  /** Holds both datadirs: a snapshot of it shows whether anything changed. */
  root: string;
  server: RippleServer;
  alice: Account;
  bob: Account;
  /** The key alice and bob share. */
  peerKey: Uint8Array;
}

/**
 * alice's server on 127.0.0.2, its datadir inside a temporary root; bob is alice's peer on
 * 127.0.0.3, where no server runs (his datadir sits in the same root).
 */
export async function aliceAndBob(
  options: Pick<ServerOptions, "args" | "http"> = {},
): Promise<AliceAndBob> {
  await using cleanup = new AsyncDisposableStack();
  const root = cleanup.use(await tempDir());
  const server = cleanup.use(
    await startServer({ ...options, host: "127.0.0.2", datadir: `${root.path}/alice` }),
  );
  const alice = await addAccount(server, "alice");
  const bobHost = { address: `127.0.0.3:${freePort("127.0.0.3")}`, datadir: `${root.path}/bob` };
  const bob = await addAccount(bobHost, "bob");
  const peerKey = await addPeers(alice, bob);
  // Set up in full: from here the caller disposes (the server first, then the root).
  const owned = cleanup.move();
  return {
    root: root.path,
    server,
    alice,
    bob,
    peerKey,
    [Symbol.asyncDispose]: () => owned.disposeAsync(),
  };
}

/**
 * Has alice's server accept a request with counter {@linkcode LAST_COUNTER}, then restarts
 * it, which checkpoints the journal into the files, and waits until the disk holds still:
 * the restarted server greets bob in the background (its first datagram to him reserves
 * counters in the journal, which a checkpoint then writes out), later on a loaded machine.
 */
export async function settle({ root, server, alice, bob }: AliceAndBob): Promise<void> {
  const counters = new MemoryCounterStore();
  await counters.recover(LAST_COUNTER - 1);
  await commands.getTrustlineOut(clientFor(alice, { counters }), bob.ref);
  await server.restart();
  assert.equal(
    (await Deno.readTextFile(`${alice.datadir}/ripple/accounts/alice/counter.txt`)).trim(),
    String(LAST_COUNTER),
  );
  await stillFor(root, STILL_MS);
}

/** Longer than the store's checkpoint delay (2 s), so a change just before is written out within it. */
const STILL_MS = 3_000;

/** Waits until nothing under `dir` has changed for `ms`; fails after 20 s of changes. */
async function stillFor(dir: string, ms: number): Promise<void> {
  const end = Date.now() + 20_000;
  let last = await snapshot(dir);
  let since = Date.now();
  while (Date.now() - since < ms) {
    if (Date.now() > end) throw new Error(`${dir} kept changing for 20 s`);
    await sleep(250);
    const now = await snapshot(dir);
    if (!sameFiles(now, last)) [last, since] = [now, Date.now()];
  }
}

function sameFiles(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([path, text]) => b.get(path) === text);
}

/** A client datagram from alice about bob: get trustline out, with the next counter. */
export function clientFields(
  alice: Account,
  bob: Account,
  fields: Partial<RawFields> = {},
): RawFields {
  return {
    command: 4, // get trustline out
    username: alice.username,
    peerUsername: bob.username,
    peerAddress: bob.address,
    counter: LAST_COUNTER + 1,
    ...fields,
  };
}

/** A server datagram from bob to alice: set trustline, which would write trustline_in.txt if accepted. */
export function serverFields(
  alice: Account,
  bob: Account,
  fields: Partial<RawFields> = {},
): RawFields {
  const setTrustline = new Uint8Array(12);
  new DataView(setTrustline.buffer).setBigUint64(0, 1000n);
  new DataView(setTrustline.buffer).setUint32(8, 1);
  return {
    command: 128,
    username: alice.username,
    peerUsername: bob.username,
    peerAddress: bob.address,
    args: setTrustline,
    counter: 1,
    ...fields,
  };
}

/** A key nobody holds. */
export function randomKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}
