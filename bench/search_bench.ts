/**
 * One step of the path search at one account: the engine alone (on a memory disk and on
 * the real disk), and a probe datagram through a whole node.
 */

import { WebCryptoMac } from "../src/auth/hmac.ts";
import { generateKey, toHex } from "../src/auth/keys.ts";
import { DEFAULT_LIMITS } from "../src/core/config.ts";
import { silentLogger } from "../src/core/log.ts";
import { SearchEngine } from "../src/paths/search.ts";
import { Front } from "../src/paths/search_table.ts";
import { Node } from "../src/server/node.ts";
import { Run } from "../src/server/run.ts";
import { addPeer, createAccount } from "../src/store/accounts.ts";
import { DenoFileSystem, type FileSystem } from "../src/store/fs.ts";
import { MemoryFileSystem } from "../src/store/memory_fs.ts";
import { peerPath } from "../src/store/paths.ts";
import { Store } from "../src/store/store.ts";
import { Tx } from "../src/store/tx.ts";
import { searchArgs } from "../src/wire/arguments.ts";
import { ServerCommand } from "../src/wire/commands.ts";
import { encodeDatagram, SIGNATURE_SIZE, signedBytes } from "../src/wire/datagram.ts";
import type { AccountRef } from "../src/wire/names.ts";

const ROOT = "/data/ripple";
const HUB = "hub";
const AMOUNT = 10n;

/** The hub's peers: `count` accounts on as many servers, each trusting the hub and trusted by it. */
function peersOf(count: number): AccountRef[] {
  return Array.from(
    { length: count },
    (_, i) => ({ username: `p${i}`, address: `10.0.0.${i + 1}` }),
  );
}

/**
 * A hub account under `root` whose edges with every peer are open in both directions.
 * With `allBooks`, the balance and lock files exist too (as after a first payment);
 * without, they are missing, as on every edge that never carried a payment.
 */
async function hubAccount(
  fs: FileSystem,
  root: string,
  peers: AccountRef[],
  allBooks = false,
): Promise<Uint8Array[]> {
  await createAccount(fs, root, HUB, generateKey());
  const keys: Uint8Array[] = [];
  const books = new Map<string, string>();
  for (const peer of peers) {
    const key = generateKey();
    keys.push(key);
    await addPeer(fs, root, HUB, peer, key);
    books.set(peerPath(HUB, peer, "trustline_out.txt"), "1000\n");
    books.set(peerPath(HUB, peer, "trustline_in.txt"), "1000\n");
    if (!allBooks) continue;
    for (const file of ["balance.txt", "locked_in.txt", "locked_out.txt"] as const) {
      books.set(peerPath(HUB, peer, file), "0\n");
    }
  }
  const store = await Store.open(fs, root);
  await store.commit(books);
  await store.close();
  return keys;
}

/** Payment ids that differ in their first bytes, so every step meets a search it has not seen. */
function idSource(): () => Uint8Array {
  let n = 0;
  return () => {
    const id = new Uint8Array(32);
    new DataView(id.buffer).setUint32(0, ++n);
    return id;
  };
}

/** Benches of the engine on a hub with `count` peers, its store on `fs` under `root`. */
async function engineBenches(
  fs: FileSystem,
  root: string,
  count: number,
  options: { disk: string; allBooks?: boolean; rootStart?: boolean; baseline?: boolean },
): Promise<void> {
  const peers = peersOf(count);
  await hubAccount(fs, root, peers, options.allBooks);
  const store = await Store.open(fs, root);
  const engine = new SearchEngine(DEFAULT_LIMITS);
  const nextId = idSource();
  const run = () => new Run(HUB, Date.now(), new Tx(store), silentLogger, peers[0]);
  const where = `${count} peers, ${options.disk}`;

  Deno.bench(`first probe of a search joins the front (${where})`, {
    group: "search step (engine)",
    baseline: options.baseline,
  }, async () => {
    const id = nextId();
    await engine.onSearch(run(), peers[0], { id, amount: AMOUNT, front: Front.Out, round: 1 });
    // Drop the state, as the search's time limit would: an account holds at most 64.
    engine.table.delete(HUB, toHex(id));
  });

  if (!options.rootStart) return;
  Deno.bench(`a root starts its front and probes (${where})`, {
    group: "search step (engine)",
  }, async () => {
    const id = nextId();
    const idHex = toHex(id);
    await engine.start(run(), id, idHex, AMOUNT, Front.Out);
    engine.table.delete(HUB, idHex);
  });
}

await engineBenches(new MemoryFileSystem().view(), ROOT, 2, {
  disk: "memory",
  rootStart: true,
  baseline: true,
});
await engineBenches(new MemoryFileSystem().view(), ROOT, 16, { disk: "memory", rootStart: true });

const dir = await Deno.makeTempDir({ prefix: "ripple-bench-search-" });
// Deno.bench has no teardown; unload runs once every bench of this file is done.
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
await engineBenches(new DenoFileSystem(), `${dir}/missing/ripple`, 16, {
  disk: "real disk, balance and lock files missing",
});
await engineBenches(new DenoFileSystem(), `${dir}/present/ripple`, 16, {
  disk: "real disk, every books file present",
  allBooks: true,
});

// A probe datagram through a whole node: decode, verify, counter, handler, commit on a
// memory disk. The transport swallows the report the step sends back.
const nodePeers = peersOf(2);
const nodeDisk = new MemoryFileSystem();
const keys = await hubAccount(nodeDisk.view(), ROOT, nodePeers);
const node = await Node.open({
  fs: nodeDisk.view(),
  datadir: "/data",
  address: "10.0.0.100",
  transport: { send: () => Promise.resolve() },
  logger: silentLogger,
});
const mac = new WebCryptoMac();
const nextNodeId = idSource();
let counter = 0;

Deno.bench("a probe datagram through a node (verify, search step, commit)", {
  group: "search step (node)",
}, async () => {
  const id = nextNodeId();
  const fields = {
    command: ServerCommand.Search,
    username: HUB,
    peerUsername: nodePeers[0].username,
    peerAddress: nodePeers[0].address,
    arguments: searchArgs.encode({ id, amount: AMOUNT, front: Front.Out, round: 1 }),
    counter: ++counter,
  };
  const unsigned = encodeDatagram(fields, new Uint8Array(SIGNATURE_SIZE));
  const signature = await mac.sign(keys[0], signedBytes(unsigned));
  await node.receive(encodeDatagram(fields, signature));
  // Drop the state, as the search's time limit would: an account holds at most 64.
  node.search.table.delete(HUB, toHex(id));
});
