/** Fuzzing a whole node: bytes from the network, signed or not, get the documented refusal and never reach the disk. */

import assert from "node:assert/strict";
import { WebCryptoMac } from "../../src/auth/hmac.ts";
import { Logger } from "../../src/core/log.ts";
import { Node } from "../../src/server/node.ts";
import { addPeer, createAccount } from "../../src/store/accounts.ts";
import { MemoryFileSystem } from "../../src/store/memory_fs.ts";
import { ClientCommand, ServerCommand } from "../../src/wire/commands.ts";
import {
  type DatagramFields,
  encodeDatagram,
  isServerCommand,
  signedBytes,
} from "../../src/wire/datagram.ts";
import {
  decodeResponse,
  type Response,
  responseMacInput,
  Status,
} from "../../src/wire/response.ts";
import { FakeClock } from "../_fake_clock.ts";
import {
  byteChange,
  bytesOf,
  counter,
  datagramFields,
  fc,
  serverAddress,
  username,
} from "./_fuzz.ts";

const ROOT = "/data/ripple";
const ALICE = "alice";
const BOB = { username: "bob", address: "127.0.0.3" };
const ALICE_KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const PEER_KEY = Uint8Array.from({ length: 32 }, (_, i) => 0xf0 ^ i);
const ZERO_MAC = new Uint8Array(32);
const CLIENT_COMMANDS: number[] = Object.values(ClientCommand);
const SERVER_COMMANDS: number[] = Object.values(ServerCommand);
const mac = new WebCryptoMac();

/** alice's node on 127.0.0.2, with bob@127.0.0.3 as her peer, on a disk in memory. */
interface Fixture extends AsyncDisposable {
  node: Node;
  disk: MemoryFileSystem;
  clock: FakeClock;
  logs: string[];
  /** Peers the node tried to send a datagram to. */
  sent: string[];
}

async function openNode(): Promise<Fixture> {
  const disk = new MemoryFileSystem();
  await createAccount(disk.view(), ROOT, ALICE, ALICE_KEY);
  await addPeer(disk.view(), ROOT, ALICE, BOB, PEER_KEY);
  const clock = new FakeClock(1_700_000_000_000);
  const logs: string[] = [];
  const sent: string[] = [];
  const node = await Node.open({
    fs: disk.view(),
    datadir: "/data",
    address: "127.0.0.2",
    clock,
    transport: {
      send: (to) => {
        sent.push(to);
        return Promise.reject(new Error("no network in this test"));
      },
    },
    logger: new Logger({ level: "debug", sink: (line) => logs.push(line), now: () => clock.now() }),
    // Routing labels greet every peer when a node opens; these tests are about what refused
    // datagrams leave behind, so no timer or send of the node's own may run.
    limits: { labelTrees: 0 },
  });
  return { node, disk, clock, logs, sent, [Symbol.asyncDispose]: () => node.close() };
}

/** Every file's bytes, and how many changes the disk has seen. */
interface DiskImage {
  files: Map<string, Uint8Array>;
  operations: number;
}

async function diskImage(disk: MemoryFileSystem): Promise<DiskImage> {
  const view = disk.view();
  const files = new Map<string, Uint8Array>();
  for (const path of disk.paths()) files.set(path, (await view.read(path))!);
  return { files, operations: disk.operations };
}

/**
 * Hands `bytes` to the node and checks that nothing happened but an answer and a log line:
 * the disk is byte for byte as before, no file is outside the datadir, nothing was sent and
 * no timer was set. Returns the answer, decoded.
 */
async function refusedWithoutTrace(fixture: Fixture, bytes: Uint8Array): Promise<Response | null> {
  const before = await diskImage(fixture.disk);
  const logged = fixture.logs.length;
  const answer = await fixture.node.receive(bytes);
  // A deferred change (a read's counter) would reach the disk only later: flushed first.
  await fixture.node.store.flush();
  assert.deepEqual(await diskImage(fixture.disk), before, "the disk changed");
  for (const path of fixture.disk.paths()) {
    assert.ok(path.startsWith(`${ROOT}/`), `${path} is outside the datadir`);
  }
  assert.deepEqual(fixture.sent, [], "a datagram was sent");
  assert.equal(fixture.clock.pending, 0, "a timer was set");
  assert.ok(fixture.logs.length > logged, "the refusal was not logged");
  const fromClient = bytes.length > 0 && !isServerCommand(bytes[0]);
  if (!fromClient) {
    assert.equal(answer, null, "a server datagram got an answer");
    return null;
  }
  assert.ok(answer !== null, "a client datagram got no answer");
  return decodeResponse(answer);
}

/** An answer to a request that could not be authenticated: malformed or unauthorized, zero mac. */
function assertUnauthenticated(response: Response | null): void {
  if (response === null) return;
  assert.ok(
    response.status === Status.Malformed || response.status === Status.Unauthorized,
    `status ${response.status}: ${new TextDecoder().decode(response.body)}`,
  );
  assert.deepEqual(response.mac, ZERO_MAC);
}

async function sign(fields: DatagramFields, key: Uint8Array): Promise<Uint8Array> {
  const unsigned = encodeDatagram(fields, new Uint8Array(32));
  return encodeDatagram(fields, await mac.sign(key, signedBytes(unsigned)));
}

/** Fields aimed at alice (mostly) from bob (mostly) with a known command (mostly): they get furthest in. */
const aimedFields: fc.Arbitrary<DatagramFields> = fc
  .record({
    fields: datagramFields,
    command: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...CLIENT_COMMANDS, ...SERVER_COMMANDS) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
    ),
    username: fc.oneof(fc.constant(ALICE), username),
    peer: fc.oneof(fc.constant(BOB), fc.record({ username, address: serverAddress })),
    namesPeer: fc.boolean(),
  })
  .map(({ fields, command, username, peer, namesPeer }) => ({
    ...fields,
    command,
    username,
    peerUsername: namesPeer || isServerCommand(command) ? peer.username : "",
    peerAddress: namesPeer || isServerCommand(command) ? peer.address : "",
  }));

/** Arguments no layout accepts: every layout ends before byte 255, which must then be zero. */
const garbageArguments: fc.Arbitrary<Uint8Array> = bytesOf(256).map((bytes) => {
  if (bytes[255] === 0) bytes[255] = 1;
  return bytes;
});

Deno.test("datagrams a node refuses never reach its disk", async (t) => {
  await using fixture = await openNode();
  await t.step("arbitrary bytes of any length: malformed or unauthorized, or silence", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(bytesOf(389), fc.uint8Array({ maxLength: 1000 })),
        async (bytes) => assertUnauthenticated(await refusedWithoutTrace(fixture, bytes)),
      ),
      { seed: 0x40de0001, numRuns: 300 },
    );
  });

  await t.step(
    "well-formed datagrams with a wrong signature, maybe with bytes changed after",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          aimedFields,
          fc.oneof(bytesOf(32), fc.constant("wrong key" as const)),
          fc.oneof(fc.constant([]), fc.array(byteChange, { minLength: 1, maxLength: 3 })),
          async (fields, signature, changes) => {
            // The other side's key: alice's for a server datagram, the peer key for a client one.
            const wrongKey = isServerCommand(fields.command) ? ALICE_KEY : PEER_KEY;
            const bytes = signature === "wrong key"
              ? await sign(fields, wrongKey)
              : encodeDatagram(fields, signature);
            for (const { at, byte } of changes) bytes[at] = byte;
            assertUnauthenticated(await refusedWithoutTrace(fixture, bytes));
          },
        ),
        { seed: 0x40de0002, numRuns: 400 },
      );
    },
  );

  await t.step(
    "correctly signed, with garbage arguments: malformed and signed, counter kept",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...CLIENT_COMMANDS),
          fc.boolean(),
          garbageArguments,
          counter,
          async (command, namesPeer, args, count) => {
            const fields = {
              command,
              username: ALICE,
              peerUsername: namesPeer ? BOB.username : "",
              peerAddress: namesPeer ? BOB.address : "",
              arguments: args,
              counter: count,
            };
            const bytes = await sign(fields, ALICE_KEY);
            const response = (await refusedWithoutTrace(fixture, bytes))!;
            // Counter 0 is never above the last accepted one (0): a replay, checked first.
            assert.equal(response.status, count === 0 ? Status.Replay : Status.Malformed);
            const input = responseMacInput(bytes.subarray(357), response.status, response.body);
            assert.ok(await mac.verify(ALICE_KEY, response.mac, input), "the answer is signed");
          },
        ),
        { seed: 0x40de0003, numRuns: 300 },
      );
      assert.equal(await fixture.node.store.read(`accounts/${ALICE}/counter.txt`), "0\n");
    },
  );

  await t.step("correctly signed server datagrams with garbage arguments: silence", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SERVER_COMMANDS),
        garbageArguments,
        counter,
        async (command, args, count) => {
          const fields = {
            command,
            username: ALICE,
            peerUsername: BOB.username,
            peerAddress: BOB.address,
            arguments: args,
            counter: count,
          };
          assert.equal(await refusedWithoutTrace(fixture, await sign(fields, PEER_KEY)), null);
        },
      ),
      { seed: 0x40de0004, numRuns: 200 },
    );
  });

  await t.step(
    "correctly signed, with an unknown command number: malformed, unsigned",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 255 }).filter((n) =>
            !CLIENT_COMMANDS.includes(n) && !SERVER_COMMANDS.includes(n)
          ),
          bytesOf(256),
          fc.integer({ min: 1, max: 0xffff_ffff }),
          async (command, args, count) => {
            const fields = {
              command,
              username: ALICE,
              peerUsername: BOB.username,
              peerAddress: BOB.address,
              arguments: args,
              counter: count,
            };
            const key = isServerCommand(command) ? PEER_KEY : ALICE_KEY;
            const response = await refusedWithoutTrace(fixture, await sign(fields, key));
            if (response !== null) {
              assert.equal(response.status, Status.Malformed);
              assert.deepEqual(response.mac, ZERO_MAC);
            }
          },
        ),
        { seed: 0x40de0005, numRuns: 100 },
      );
    },
  );

  await t.step("control: a correct request is answered ok and does reach the disk", async () => {
    const before = await diskImage(fixture.disk);
    const fields = {
      command: ClientCommand.GetTrustlineOut,
      username: ALICE,
      peerUsername: BOB.username,
      peerAddress: BOB.address,
      arguments: new Uint8Array(256),
      counter: 1,
    };
    const answer = decodeResponse((await fixture.node.receive(await sign(fields, ALICE_KEY)))!);
    assert.equal(answer.status, Status.Ok);
    // A read's counter reaches the journal deferred (docs/protocol.md §1): flushed here.
    await fixture.node.store.flush();
    // The counter is consumed in the journal: the check above would have seen such a change.
    const after = await diskImage(fixture.disk);
    assert.ok(after.operations > before.operations);
    const journal = [...after.files].find(([path]) => path.startsWith(`${ROOT}/journal/`))!;
    assert.match(new TextDecoder().decode(journal[1]), /accounts\/alice\/counter\.txt/);
  });
});
