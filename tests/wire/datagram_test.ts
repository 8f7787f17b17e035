/** The 389-byte datagram: what round-trips, and every way bytes are refused before they touch the disk. */

import assert from "node:assert/strict";
import {
  ARGUMENTS_SIZE,
  DATAGRAM_SIZE,
  DatagramError,
  type DatagramFields,
  decodeDatagram,
  encodeDatagram,
  isServerCommand,
  SIGNED_SIZE,
  signedBytes,
} from "../../src/wire/datagram.ts";

const USERNAME_AT = 1;
const PEER_USERNAME_AT = 33;
const PEER_ADDRESS_AT = 65;

function argumentsOf(seed: number): Uint8Array {
  return Uint8Array.from({ length: ARGUMENTS_SIZE }, (_, i) => (i * 7 + seed) & 0xff);
}

function fields(overrides: Partial<DatagramFields> = {}): DatagramFields {
  return {
    command: 3,
    username: "alice",
    peerUsername: "bob",
    peerAddress: "127.0.0.3",
    arguments: argumentsOf(1),
    counter: 42,
    ...overrides,
  };
}

const signature = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);

/** A valid datagram whose 32-byte name field at `at` holds exactly `raw`. */
function withNameField(at: number, raw: number[]): Uint8Array {
  const bytes = encodeDatagram(fields(), signature);
  bytes.fill(0, at, at + 32);
  bytes.set(raw, at);
  return bytes;
}

function ascii(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0));
}

Deno.test("a client datagram naming a peer survives encode and decode unchanged", () => {
  const sent = fields();
  const bytes = encodeDatagram(sent, signature);
  assert.equal(bytes.length, DATAGRAM_SIZE);
  const got = decodeDatagram(bytes);
  assert.equal(got.command, sent.command);
  assert.equal(got.username, "alice");
  assert.equal(got.peerUsername, "bob");
  assert.equal(got.peerAddress, "127.0.0.3");
  assert.deepEqual(got.arguments, sent.arguments);
  assert.equal(got.counter, 42);
  assert.deepEqual(got.signature, signature);
  assert.equal(got.bytes, bytes);
});

Deno.test("the fields sit at the offsets the wire format fixes", () => {
  const bytes = encodeDatagram(fields({ command: 0x85, counter: 0x01020304 }), signature);
  assert.equal(bytes[0], 0x85);
  assert.deepEqual([...bytes.subarray(1, 6)], ascii("alice"));
  assert.equal(bytes[6], 0);
  assert.deepEqual([...bytes.subarray(33, 36)], ascii("bob"));
  assert.deepEqual([...bytes.subarray(65, 74)], ascii("127.0.0.3"));
  assert.deepEqual(bytes.subarray(97, 353), argumentsOf(1));
  assert.deepEqual([...bytes.subarray(353, 357)], [1, 2, 3, 4]);
  assert.deepEqual(bytes.subarray(357), signature);
});

Deno.test("a client datagram that concerns no peer has all-zero peer fields", () => {
  const bytes = encodeDatagram(
    fields({ command: 7, peerUsername: "", peerAddress: "" }),
    signature,
  );
  assert.ok(bytes.subarray(PEER_USERNAME_AT, PEER_ADDRESS_AT + 32).every((b) => b === 0));
  const got = decodeDatagram(bytes);
  assert.equal(got.peerUsername, "");
  assert.equal(got.peerAddress, "");
});

Deno.test("a server datagram carries its sender in the peer fields", () => {
  const got = decodeDatagram(
    encodeDatagram(fields({ command: 128, peerAddress: "ripple.example:4000" }), signature),
  );
  assert.equal(got.command, 128);
  assert.ok(isServerCommand(got.command));
  assert.equal(got.peerUsername, "bob");
  assert.equal(got.peerAddress, "ripple.example:4000");
});

Deno.test("the high bit of the command byte decides who sent it", () => {
  assert.equal(isServerCommand(0), false);
  assert.equal(isServerCommand(127), false);
  assert.equal(isServerCommand(128), true);
  assert.equal(isServerCommand(255), true);
});

Deno.test("names that fill their whole 32-byte field and the largest counter round-trip", () => {
  const long = "a".repeat(32);
  const address = "a".repeat(27) + ".b:99"; // 32 bytes
  const got = decodeDatagram(
    encodeDatagram(
      fields({ username: long, peerUsername: long, peerAddress: address, counter: 0xffff_ffff }),
      signature,
    ),
  );
  assert.equal(got.username, long);
  assert.equal(got.peerUsername, long);
  assert.equal(got.peerAddress, address);
  assert.equal(got.counter, 0xffff_ffff);
});

Deno.test("the signed part is bytes 0 to 356", () => {
  const bytes = encodeDatagram(fields(), signature);
  const signed = signedBytes(bytes);
  assert.equal(SIGNED_SIZE, 357);
  assert.equal(signed.length, 357);
  assert.deepEqual(signed, bytes.subarray(0, 357));
});

Deno.test("a datagram of the wrong length is refused", () => {
  const bytes = encodeDatagram(fields(), signature);
  for (const length of [0, 1, 388, 390, 1024]) {
    const sized = new Uint8Array(length);
    sized.set(bytes.subarray(0, Math.min(length, bytes.length)));
    assert.throws(() => decodeDatagram(sized), DatagramError, `length ${length}`);
  }
});

Deno.test("a bad name in any name field is refused", async (t) => {
  const badNames: [string, number[]][] = [
    ["empty", []],
    ["a '..'", ascii("a..b")],
    ["a '/'", ascii("a/b")],
    ["upper case", ascii("Alice")],
    ["a control byte", [...ascii("al"), 0x01, ...ascii("ce")]],
    ["DEL", [...ascii("al"), 0x7f]],
    ["a byte above ASCII", [...ascii("al"), 0xe9]],
    ["bytes after the first zero", [...ascii("al"), 0, ...ascii("ce")]],
    ["a single byte after the padding", [...ascii("alice"), ...new Array(26).fill(0), 0x61]],
    ["a leading '.'", ascii(".alice")],
    ["a space", ascii("al ice")],
  ];
  await t.step("username", () => {
    for (const [what, raw] of badNames) {
      assert.throws(() => decodeDatagram(withNameField(USERNAME_AT, raw)), DatagramError, what);
    }
  });
  await t.step("peer username", () => {
    for (const [what, raw] of badNames) {
      assert.throws(
        () => decodeDatagram(withNameField(PEER_USERNAME_AT, raw)),
        DatagramError,
        what,
      );
    }
  });
  await t.step("peer server address", () => {
    for (const [what, raw] of badNames) {
      assert.throws(
        () => decodeDatagram(withNameField(PEER_ADDRESS_AT, raw)),
        DatagramError,
        what,
      );
    }
  });
});

Deno.test("a peer server address not in canonical form is refused", () => {
  for (
    const address of [
      "host:2012",
      "127.0.0.3:2012",
      "host:02012",
      "host:",
      "host:0",
      "host:65536",
      "1.2.3.256",
      "-host",
      "host.",
    ]
  ) {
    assert.throws(
      () => decodeDatagram(withNameField(PEER_ADDRESS_AT, ascii(address))),
      DatagramError,
      address,
    );
  }
});

Deno.test("a server command without a sender is refused", () => {
  for (const command of [128, 141, 255]) {
    const bytes = encodeDatagram(fields({ command, peerUsername: "", peerAddress: "" }), signature);
    assert.throws(() => decodeDatagram(bytes), /server command without a sender/);
  }
});

Deno.test("a client command with only one of the two peer fields is refused", async (t) => {
  await t.step("peer username without address", () => {
    const bytes = encodeDatagram(fields({ command: 0, peerAddress: "" }), signature);
    assert.throws(() => decodeDatagram(bytes), DatagramError);
  });
  await t.step("peer address without username", () => {
    const bytes = encodeDatagram(fields({ command: 0, peerUsername: "" }), signature);
    assert.throws(() => decodeDatagram(bytes), DatagramError);
  });
  await t.step("the same holds for server commands", () => {
    const bytes = encodeDatagram(fields({ command: 128, peerUsername: "" }), signature);
    assert.throws(() => decodeDatagram(bytes), DatagramError);
  });
});

Deno.test("encoding refuses arguments, signatures and names of the wrong size", () => {
  assert.throws(
    () => encodeDatagram(fields({ arguments: new Uint8Array(255) }), signature),
    DatagramError,
  );
  assert.throws(
    () => encodeDatagram(fields({ arguments: new Uint8Array(257) }), signature),
    DatagramError,
  );
  assert.throws(() => encodeDatagram(fields(), new Uint8Array(31)), DatagramError);
  assert.throws(() => encodeDatagram(fields(), new Uint8Array(33)), DatagramError);
  assert.throws(
    () => encodeDatagram(fields({ username: "a".repeat(33) }), signature),
    DatagramError,
  );
});

Deno.test("decoded arguments are the datagram's own bytes 97 to 352", () => {
  const bytes = encodeDatagram(fields(), signature);
  const got = decodeDatagram(bytes);
  assert.equal(got.arguments.length, ARGUMENTS_SIZE);
  assert.equal(got.arguments.byteOffset, bytes.byteOffset + 97);
});
