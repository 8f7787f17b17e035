/**
 * `POST /datagram` with bad input, at a real server: each request gets its documented
 * answer and a log line, and none changes a file. The answers are the TCP side's own.
 */

import assert from "node:assert/strict";
import { Deadline, withSignal, writeAll } from "../../src/core/deadline.ts";
import { CONTENT_SECURITY_POLICY } from "../../src/http/headers.ts";
import {
  type AliceAndBob,
  aliceAndBob,
  clientFields,
  LAST_COUNTER,
  randomKey,
  serverFields,
  settle,
} from "../integration/_bad_input.ts";
import {
  answerMac,
  changesNothing,
  rawDatagram,
  type RippleServer,
  sendRaw,
  splitAnswer,
  waitForLog,
} from "../integration/harness.ts";

const ZERO_MAC = new Uint8Array(32);
const OCTETS = { "Content-Type": "application/octet-stream" };

/** alice's server, with the server, settled (her last counter is {@linkcode LAST_COUNTER}). */
async function setup(args: string[] = []) {
  const fixture = await aliceAndBob({ http: true, args });
  await settle(fixture);
  return fixture;
}

/** What came back from the HTTP side, body read in full. */
interface HttpReply {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

let sources = 0;
/**
 * A source address of its own for each request, as if the proxy passed it on: refusals from
 * one source are logged once a second (with a count), and each check waits for its own line.
 */
function freshSource(): string {
  return `198.51.100.${++sources % 250}`;
}

async function request(
  server: RippleServer,
  path: string,
  init: RequestInit = {},
): Promise<HttpReply> {
  const headers = new Headers(init.headers);
  if (!headers.has("X-Forwarded-For")) headers.set("X-Forwarded-For", freshSource());
  const response = await fetch(new URL(path, server.walletUrl), { ...init, headers });
  return {
    status: response.status,
    headers: response.headers,
    body: new Uint8Array(await response.arrayBuffer()),
  };
}

function post(server: RippleServer, body: Uint8Array, headers: HeadersInit = OCTETS) {
  return request(server, "/datagram", { method: "POST", headers, body: body as BufferSource });
}

/** A refusal at the HTTP level: the status, the security headers, and not a byte of body. */
function assertRefused(reply: HttpReply, status: number): void {
  assert.equal(reply.status, status);
  assert.equal(reply.body.length, 0, "a refusal carries no body");
  assert.equal(reply.headers.get("Content-Security-Policy"), CONTENT_SECURITY_POLICY);
  assert.equal(reply.headers.get("Cache-Control"), "no-store");
}

/**
 * A raw HTTP/1.1 request on its own connection, for what `fetch` cannot send (a stalled or
 * chunked body); reads until the answer's head has arrived, then closes. The server may keep
 * the connection open after answering (see docs/protocol.md, the HTTP side), so the test
 * does not wait for it to close.
 */
async function rawHttp(server: RippleServer, head: string, body: Uint8Array = new Uint8Array()) {
  const url = new URL(server.walletUrl!);
  using deadline = new Deadline(8_000);
  using conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  const started = performance.now();
  const sourced = head.includes("X-Forwarded-For")
    ? head
    : head.replace("\r\n", `\r\nX-Forwarded-For: ${freshSource()}\r\n`);
  await writeAll(conn, new TextEncoder().encode(sourced), deadline.signal);
  await writeAll(conn, body, deadline.signal);
  let text = "";
  const buffer = new Uint8Array(4096);
  while (!text.includes("\r\n\r\n")) {
    const n = await withSignal(conn.read(buffer), deadline.signal);
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  const status = Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1]);
  return { status, text, elapsedMs: performance.now() - started };
}

Deno.test("bad input at POST /datagram gets its documented answer and changes nothing", async (t) => {
  await using fixture = await setup(["--read-timeout-ms", "1000"]);
  const { root, server, alice, bob, peerKey } = fixture;
  const valid = () => rawDatagram(clientFields(alice, bob), alice.key);

  await t.step("wrong methods: 405, with the methods that are allowed", async () => {
    for (const method of ["GET", "PUT", "DELETE", "OPTIONS"]) {
      const reply = await changesNothing(
        server,
        root,
        ["http-refused", `method=${method}`, "status=405"],
        () => request(server, "/datagram", { method }),
      );
      assertRefused(reply, 405);
      assert.equal(reply.headers.get("Allow"), "POST");
    }
    const reply = await changesNothing(
      server,
      root,
      ["http-refused", "method=POST", "path=/", "status=405"],
      async () =>
        request(server, "/", {
          method: "POST",
          headers: OCTETS,
          body: await valid() as BufferSource,
        }),
    );
    assertRefused(reply, 405);
    assert.equal(reply.headers.get("Allow"), "GET, HEAD");
  });

  await t.step("wrong sizes: 400 below 389 bytes, 413 above", async () => {
    const whole = await valid();
    for (const [bytes, status] of [[0, 400], [1, 400], [388, 400], [390, 413]] as const) {
      const body = new Uint8Array(bytes);
      body.set(whole.subarray(0, bytes));
      const reply = await changesNothing(
        server,
        root,
        ["http-refused", `status=${status}`],
        () => post(server, body),
      );
      assertRefused(reply, status);
    }
  });

  await t.step(
    "an oversized body is refused without being read, declared or streamed",
    async () => {
      const big = new Uint8Array(1 << 20);
      assertRefused(
        await changesNothing(server, root, ["http-refused", "status=413"], () => post(server, big)),
        413,
      );
      // No Content-Length: the server stops reading after 390 bytes.
      const streamed = await changesNothing(
        server,
        root,
        ["http-refused", "status=413"],
        () =>
          rawHttp(
            server,
            "POST /datagram HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
              "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
              "8000\r\n",
            new Uint8Array(0x8000),
          ),
      );
      assert.equal(streamed.status, 413);
    },
  );

  await t.step("a body of another type is refused: no cross-site form can post one", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]) {
      const reply = await changesNothing(
        server,
        root,
        ["http-refused", "status=415"],
        async () => post(server, await valid(), { "Content-Type": type }),
      );
      assertRefused(reply, 415);
    }
  });

  await t.step("a body that stalls is cut off at the read deadline: 408", async () => {
    const whole = await valid();
    const reply = await changesNothing(
      server,
      root,
      ["http-refused", "status=408"],
      () =>
        rawHttp(
          server,
          "POST /datagram HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
            "Content-Type: application/octet-stream\r\nContent-Length: 389\r\n\r\n",
          whole.subarray(0, 100),
        ),
    );
    assert.equal(reply.status, 408);
    assert.ok(reply.elapsedMs > 900, `cut off after ${reply.elapsedMs} ms`);
  });

  await t.step("a replayed counter: the replay answer, signed, with the last counter", async () => {
    for (const counter of [LAST_COUNTER, 1]) {
      const datagram = await rawDatagram(clientFields(alice, bob, { counter }), alice.key);
      const reply = await changesNothing(
        server,
        root,
        ["replay", "account=alice", `counter=${counter}`, `last=${LAST_COUNTER}`],
        () => post(server, datagram),
      );
      assert.equal(reply.status, 200);
      assert.equal(reply.headers.get("Content-Type"), "application/octet-stream");
      const answer = splitAnswer(reply.body);
      assert.equal(answer.status, 3);
      assert.deepEqual(answer.body, new Uint8Array([0, 0, 0, LAST_COUNTER]));
      assert.deepEqual(answer.mac, await answerMac(alice.key, datagram.slice(357), answer));
    }
  });

  await t.step("a wrong signature: unauthorized with a zero mac, as on TCP", async () => {
    const forged = await rawDatagram(
      clientFields(alice, bob),
      randomKey(),
    );
    const reply = await changesNothing(
      server,
      root,
      ["bad-signature", "account=alice"],
      () => post(server, forged),
    );
    const answer = splitAnswer(reply.body);
    assert.deepEqual([reply.status, answer.status, answer.mac], [200, 2, ZERO_MAC]);
    const overTcp = await changesNothing(
      server,
      root,
      ["bad-signature", "account=alice"],
      () => sendRaw(server.address, forged),
    );
    assert.deepEqual(reply.body, overTcp.bytes, "the same answer as the TCP side's");
  });

  await t.step("a name that would be a path is malformed before it touches the disk", async () => {
    const datagram = await rawDatagram(
      clientFields(alice, bob, { peerUsername: "../../alice" }),
      alice.key,
    );
    const reply = await changesNothing(
      server,
      root,
      ["datagram-rejected", "invalid peer username"],
      () => post(server, datagram),
    );
    const answer = splitAnswer(reply.body);
    assert.deepEqual([answer.status, answer.mac], [1, ZERO_MAC]);
  });

  await t.step(
    "a server datagram is not taken over HTTP, even signed with the peer key",
    async () => {
      // Set trustline: it would write trustline_in.txt if it were accepted.
      const datagram = await rawDatagram(serverFields(alice, bob), peerKey);
      const reply = await changesNothing(
        server,
        root,
        ["http-refused", "status=400", "server datagrams go to the TCP port"],
        () => post(server, datagram),
      );
      assertRefused(reply, 400);
    },
  );

  await t.step("no such file: 404", async () => {
    for (
      const path of ["/nothing", "/../ripple/accounts/alice/secretkey.txt", "/assets/index.html"]
    ) {
      const reply = await changesNothing(
        server,
        root,
        ["http-refused", "status=404"],
        () => request(server, path),
      );
      assertRefused(reply, 404);
    }
  });
});

Deno.test("a valid datagram over HTTP is answered with the signed answer bytes only", async () => {
  await using fixture = await setup();
  const { server, alice, bob } = fixture;
  const datagram = await rawDatagram(clientFields(alice, bob), alice.key);
  const reply = await post(server, datagram);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get("Cache-Control"), "no-store");
  const answer = splitAnswer(reply.body);
  assert.equal(answer.status, 0);
  assert.deepEqual(answer.mac, await answerMac(alice.key, datagram.slice(357), answer));
  const again = splitAnswer((await post(server, datagram)).body);
  assert.equal(again.status, 3, "the counter is used up, as on TCP: the same datagram is a replay");
  assert.deepEqual(again.body, new Uint8Array([0, 0, 0, LAST_COUNTER + 1]));
});

Deno.test("the page and its files carry a strict Content-Security-Policy and the security headers", async () => {
  await using fixture = await setup();
  const { server } = fixture;
  for (
    const [path, type] of [
      ["/", "text/html; charset=utf-8"],
      ["/wallet.js", "text/javascript; charset=utf-8"],
      ["/wallet.css", "text/css; charset=utf-8"],
      ["/icon.svg", "image/svg+xml"],
      ["/server.json", "application/json"],
    ]
  ) {
    const reply = await request(server, path);
    assert.equal(reply.status, 200, path);
    assert.equal(reply.headers.get("Content-Type"), type, path);
    assert.ok(reply.body.length > 0, path);
    const headers = Object.fromEntries(reply.headers);
    assert.equal(headers["content-security-policy"], CONTENT_SECURITY_POLICY);
    assert.match(headers["content-security-policy"], /default-src 'none'/);
    assert.match(headers["content-security-policy"], /form-action 'none'/);
    assert.equal(headers["x-content-type-options"], "nosniff");
    assert.equal(headers["x-frame-options"], "DENY");
    assert.equal(headers["referrer-policy"], "no-referrer");
    assert.equal(headers["cross-origin-opener-policy"], "same-origin");
  }
  assert.deepEqual(
    JSON.parse(new TextDecoder().decode((await request(server, "/server.json")).body)),
    {
      address: server.address,
      searchTimeoutMs: 30_000,
    },
  );
  const page = await request(server, "/");
  const etag = page.headers.get("ETag")!;
  const again = await request(server, "/", { headers: { "If-None-Match": etag } });
  assert.deepEqual([again.status, again.body.length], [304, 0]);
  const head = await request(server, "/wallet.js", { method: "HEAD" });
  assert.deepEqual([head.status, head.body.length], [200, 0]);
});

/** A datagram request from `source` whose body stops after 10 bytes, once the server has admitted it. */
async function stalled(fixture: AliceAndBob, source: string) {
  const { server, alice, bob } = fixture;
  const since = server.logs().length;
  const whole = await rawDatagram(clientFields(alice, bob), alice.key);
  const reply = rawHttp(
    server,
    "POST /datagram HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
      `X-Forwarded-For: ${source}\r\n` +
      "Content-Type: application/octet-stream\r\nContent-Length: 389\r\n\r\n",
    whole.subarray(0, 10),
  );
  await waitForLog(server, ["http-request", `source=${source}`, "admitted=true"], { since });
  // In an object: an async function returning the promise itself would wait for it.
  return { reply };
}

function from(source: string): RequestInit {
  return { headers: { "X-Forwarded-For": source } };
}

Deno.test("a source at its cap gives up its request that waited longest, not the others' ones", async () => {
  await using fixture = await setup([
    ...["--max-connections-per-source", "1", "--read-timeout-ms", "5000"],
    ...["--log-level", "debug"],
  ]);
  const { server } = fixture;
  const held = await stalled(fixture, "192.0.2.1");
  assert.equal((await request(server, "/", from("192.0.2.2"))).status, 200, "another source");
  const since = server.logs().length;
  assert.equal((await request(server, "/", from("192.0.2.1"))).status, 200, "the same source");
  assert.equal((await held.reply).status, 503, "the stalled request made room");
  await waitForLog(server, ["connection-evicted", "listener=http", "source=192.0.2.1"], {
    since,
  });
});

Deno.test("past max_connections, the request that waited longest for its body makes room", async () => {
  await using fixture = await setup([
    ...["--max-connections", "2", "--read-timeout-ms", "2000"],
    ...["--log-level", "debug"],
  ]);
  const { server } = fixture;
  const first = await stalled(fixture, "192.0.2.1");
  const second = await stalled(fixture, "192.0.2.2");
  const since = server.logs().length;
  assert.equal((await request(server, "/", from("192.0.2.3"))).status, 200);
  assert.equal((await first.reply).status, 503, "the longest waiting made room");
  await waitForLog(server, ["connection-evicted", "listener=http", "reason=server-full"], {
    since,
  });
  assert.equal((await second.reply).status, 408, "the other ran into its read deadline");
});
