/**
 * The server's HMAC (WebCrypto, an async op per call) beside node:crypto's synchronous
 * HMAC on the same bytes, alone and 32 at once as under load: what a switch would save.
 */

import { createHmac } from "node:crypto";
import { WebCryptoMac } from "../src/auth/hmac.ts";
import { generateKey } from "../src/auth/keys.ts";

const mac = new WebCryptoMac();
const key = generateKey();
const data = crypto.getRandomValues(new Uint8Array(357));
await mac.sign(key, data);

Deno.bench("WebCryptoMac.sign 357 bytes (src/auth/hmac.ts)", {
  group: "HMAC, one at a time",
  baseline: true,
}, async () => {
  await mac.sign(key, data);
});

Deno.bench("node:crypto createHmac 357 bytes", { group: "HMAC, one at a time" }, () => {
  createHmac("sha256", key).update(data).digest();
});

const BATCH = Array.from({ length: 32 });

Deno.bench("32 concurrent WebCryptoMac.sign", {
  group: "HMAC, 32 at once",
  baseline: true,
}, async () => {
  await Promise.all(BATCH.map(() => mac.sign(key, data)));
});

Deno.bench("32 node:crypto createHmac", { group: "HMAC, 32 at once" }, () => {
  for (const _ of BATCH) createHmac("sha256", key).update(data).digest();
});
