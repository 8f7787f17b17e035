/** Hot paths of one datagram: decode and validate, HMAC sign and verify, the client answer. */

import { WebCryptoMac } from "../src/auth/hmac.ts";
import { generateKey } from "../src/auth/keys.ts";
import {
  decodeDatagram,
  encodeDatagram,
  SIGNATURE_SIZE,
  signedBytes,
} from "../src/wire/datagram.ts";
import { encodeResponse, responseMacInput } from "../src/wire/response.ts";

const mac = new WebCryptoMac();
const key = generateKey();
const fields = {
  command: 0,
  username: "alice",
  peerUsername: "bob",
  peerAddress: "127.0.0.3",
  arguments: new Uint8Array(256),
  counter: 7,
};
const unsigned = encodeDatagram(fields, new Uint8Array(SIGNATURE_SIZE));
const signature = await mac.sign(key, signedBytes(unsigned));
const datagram = encodeDatagram(fields, signature);
const body = new Uint8Array(20);

Deno.bench("decode and validate one datagram", { group: "datagram", baseline: true }, () => {
  decodeDatagram(datagram);
});

Deno.bench("decode, validate and verify one datagram", { group: "datagram" }, async () => {
  const decoded = decodeDatagram(datagram);
  if (!await mac.verify(key, decoded.signature, signedBytes(decoded.bytes))) {
    throw new Error("signature did not verify");
  }
});

Deno.bench("HMAC-SHA256 sign 357 bytes", { group: "hmac" }, async () => {
  await mac.sign(key, signedBytes(datagram));
});

Deno.bench("HMAC-SHA256 verify 357 bytes", { group: "hmac" }, async () => {
  await mac.verify(key, signature, signedBytes(datagram));
});

Deno.bench("sign and encode a client answer", async () => {
  const answerMac = await mac.sign(key, responseMacInput(signature, 0, body));
  encodeResponse(0, body, answerMac);
});
