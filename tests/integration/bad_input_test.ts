/** Bad input at a real server: each gets the documented answer and a log line, and changes nothing on disk. */

import assert from "node:assert/strict";
import { AuthenticationError, type Exchange } from "../../src/client/client.ts";
import { tcpExchange } from "../../src/client/tcp_exchange.ts";
import * as commands from "../../src/client/commands.ts";
import {
  aliceAndBob,
  clientFields,
  LAST_COUNTER,
  randomKey,
  serverFields,
  settle,
} from "./_bad_input.ts";
import {
  answerMac,
  changesNothing,
  clientFor,
  type RawAnswer,
  rawDatagram,
  type RawFields,
  type RippleServer,
  sendRaw,
  splitAnswer,
} from "./harness.ts";

const ZERO_MAC = new Uint8Array(32);
const decoder = new TextDecoder();

/** A client exchange over a raw connection: the answer, split, with the request's signature. */
async function ask(server: RippleServer, request: Uint8Array, halfClose = false) {
  const reply = await sendRaw(server.address, request, { halfClose });
  return { ...splitAnswer(reply.bytes), requestSignature: request.slice(357) };
}

/** A server datagram: nothing may come back before the close. */
async function tell(server: RippleServer, datagram: Uint8Array): Promise<void> {
  const reply = await sendRaw(server.address, datagram);
  assert.equal(reply.bytes.length, 0, "a server datagram gets no reply bytes");
}

/** An answer the server could not authenticate the request for: `status` and a zero mac. */
function assertUnsigned(answer: RawAnswer, status: number, message?: string): void {
  assert.equal(answer.status, status, message);
  assert.deepEqual(answer.mac, ZERO_MAC, message);
}

/** An answer signed with `key` and bound to the request it answers. */
async function assertSigned(
  answer: RawAnswer & { requestSignature: Uint8Array },
  status: number,
  key: Uint8Array,
): Promise<void> {
  assert.equal(answer.status, status);
  assert.deepEqual(answer.mac, await answerMac(key, answer.requestSignature, answer));
}

Deno.test("bad input gets its documented answer, is logged, and changes nothing", async (t) => {
  // Routing labels greet the peers after every start: bob's server is not running, so those
  // sends would go on moving alice's outgoing counter while each step checks the disk holds still.
  await using fixture = await aliceAndBob({ args: ["--label-trees", "0"] });
  const { root, server, alice, bob, peerKey } = fixture;
  await settle(fixture);

  await t.step("a client datagram with a wrong signature: unauthorized, zero mac", async () => {
    const answer = await changesNothing(
      server,
      root,
      ["bad-signature", "account=alice"],
      async () => ask(server, await rawDatagram(clientFields(alice, bob), randomKey())),
    );
    assertUnsigned(answer, 2);
  });

  await t.step("a server datagram with a wrong signature is closed silently", async () => {
    await changesNothing(
      server,
      root,
      ["bad-signature", "account=alice", `peer=bob@${bob.address}`],
      async () => tell(server, await rawDatagram(serverFields(alice, bob), randomKey())),
    );
  });

  await t.step("a client datagram for an unknown account: unauthorized, zero mac", async () => {
    const fields = clientFields(alice, bob, { username: "carol" });
    const answer = await changesNothing(
      server,
      root,
      ["unknown-account", "account=carol"],
      async () => ask(server, await rawDatagram(fields, alice.key)),
    );
    assertUnsigned(answer, 2);
  });

  await t.step("a client command naming a non-peer: unknown peer, signed", async () => {
    const fields = clientFields(alice, bob, { peerUsername: "dave" });
    const answer = await changesNothing(
      server,
      root,
      ["client-refused", `dave@${bob.address} is not a peer of alice`],
      async () => ask(server, await rawDatagram(fields, alice.key)),
    );
    await assertSigned(answer, 4, alice.key);
  });

  await t.step("a server datagram from an unknown peer is closed silently", async () => {
    const fields = serverFields(alice, bob, { peerUsername: "dave" });
    await changesNothing(
      server,
      root,
      ["unknown-peer", `peer=dave@${bob.address}`],
      async () => tell(server, await rawDatagram(fields, peerKey)),
    );
  });

  await t.step("a replayed counter: replay, the last accepted counter, signed", async () => {
    for (const counter of [LAST_COUNTER, 1]) {
      const fields = clientFields(alice, bob, { counter });
      const answer = await changesNothing(
        server,
        root,
        ["replay", "account=alice", `counter=${counter}`, `last=${LAST_COUNTER}`],
        async () => ask(server, await rawDatagram(fields, alice.key)),
      );
      await assertSigned(answer, 3, alice.key);
      assert.deepEqual(answer.body, new Uint8Array([0, 0, 0, LAST_COUNTER]));
    }
  });

  await t.step("a truncated datagram, then a half-close: malformed", async () => {
    const whole = await rawDatagram(clientFields(alice, bob), alice.key);
    const answer = await changesNothing(
      server,
      root,
      ["datagram-rejected", "200 bytes"],
      () => ask(server, whole.subarray(0, 200), true),
    );
    assertUnsigned(answer, 1);
    assert.match(decoder.decode(answer.body), /200 bytes, expected 389/);
  });

  await t.step(
    "389 random bytes: malformed for a client command, silence for a server one",
    async () => {
      const garbage = crypto.getRandomValues(new Uint8Array(389));
      garbage[0] &= 0x7f;
      const answer = await changesNothing(
        server,
        root,
        ["datagram-rejected", "from=client"],
        () => ask(server, garbage),
      );
      assertUnsigned(answer, 1);

      garbage[0] |= 0x80;
      await changesNothing(
        server,
        root,
        ["datagram-rejected", "from=server"],
        () => tell(server, garbage),
      );
    },
  );

  await t.step("names with .. or / are rejected before they touch the disk", async () => {
    const clientCases: Partial<RawFields>[] = [
      { username: ".." },
      { username: "../alice" },
      { username: "alice/peers" },
      { peerUsername: ".." },
      { peerUsername: "../../alice" },
      { peerAddress: ".." },
      { peerAddress: "127.0.0.3/../../x" },
    ];
    for (const fields of clientCases) {
      // Signed with alice's key: only the name can be the reason for the refusal.
      const request = await rawDatagram(clientFields(alice, bob, fields), alice.key);
      const answer = await changesNothing(
        server,
        root,
        ["datagram-rejected", "invalid"],
        () => ask(server, request),
      );
      assertUnsigned(answer, 1, JSON.stringify(fields));
    }
    for (const fields of [{ peerUsername: "../bob" }, { peerAddress: "127.0.0.3/.." }]) {
      const datagram = await rawDatagram(serverFields(alice, bob, fields), peerKey);
      await changesNothing(
        server,
        root,
        ["datagram-rejected", "invalid", "from=server"],
        () => tell(server, datagram),
      );
    }
  });

  await t.step("signed, but arguments with bytes after their last field", async () => {
    const args = new Uint8Array(256).fill(1, 200);
    const request = await rawDatagram(clientFields(alice, bob, { args }), alice.key);
    const answer = await changesNothing(
      server,
      root,
      ["client-malformed", "account=alice"],
      () => ask(server, request),
    );
    // Authenticated, so signed; refused, so the counter is not used up.
    await assertSigned(answer, 1, alice.key);

    const datagram = await rawDatagram(serverFields(alice, bob, { args }), peerKey);
    await changesNothing(
      server,
      root,
      ["server-malformed", "account=alice"],
      () => tell(server, datagram),
    );
  });

  await t.step(
    "an unknown command number: malformed, or silence for a server command",
    async () => {
      const request = await rawDatagram(clientFields(alice, bob, { command: 99 }), alice.key);
      const answer = await changesNothing(
        server,
        root,
        ["unknown-command", "command=99"],
        () => ask(server, request),
      );
      assertUnsigned(answer, 1);
      assert.equal(decoder.decode(answer.body), "unknown command");

      const datagram = await rawDatagram(serverFields(alice, bob, { command: 250 }), peerKey);
      await changesNothing(
        server,
        root,
        ["unknown-command", "command=250"],
        () => tell(server, datagram),
      );
    },
  );

  await t.step(
    "a connection that sends nothing is closed after the 5 s read deadline",
    async () => {
      const reply = await changesNothing(
        server,
        root,
        ["connection-timed-out"],
        () => sendRaw(server.address, new Uint8Array(), { timeoutMs: 8_000 }),
      );
      assert.equal(reply.bytes.length, 0);
      assert.ok(reply.elapsedMs > 4_500, `closed after ${reply.elapsedMs} ms`);
    },
  );
});

Deno.test("an answer to one request is refused as the answer to another", async () => {
  await using fixture = await aliceAndBob();
  const { alice, bob } = fixture;
  const tcp = tcpExchange(5_000);
  const answers: Uint8Array[] = [];
  // Passes the first answer on, and hands it back again in place of the second.
  const exchange: Exchange = async (address, request) => {
    answers.push(await tcp(address, request));
    return answers[0];
  };
  const client = clientFor(alice, { exchange });
  assert.deepEqual(await commands.getTrustlineOut(client, bob.ref), {
    amount: 0n,
    counter: 0,
    syncOut: 0,
  });
  await assert.rejects(commands.getTrustlineOut(client, bob.ref), AuthenticationError);
  // The two answers say the same thing; only their macs, bound to each request, differ.
  const [first, second] = answers.map(splitAnswer);
  assert.equal(first.status, second.status);
  assert.deepEqual(first.body, second.body);
  assert.notDeepEqual(first.mac, second.mac);
});
