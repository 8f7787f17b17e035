/** HMAC-SHA256 that completes on the microtask queue, so simulated runs do not depend on thread timing. */

import { createHmac, timingSafeEqual } from "node:crypto";
import type { Mac } from "../auth/hmac.ts";

/**
 * The same HMAC-SHA256 as the server's WebCrypto one, computed synchronously. WebCrypto
 * answers from a thread pool, whose timing would make two runs of one seed differ.
 *
 * @example
 * ```ts
 * import { SyncMac } from "./mac.ts";
 * const mac = new SyncMac();
 * const key = new Uint8Array(32), data = new Uint8Array([1, 2, 3]);
 * await mac.verify(key, await mac.sign(key, data), data); // true
 * ```
 */
export class SyncMac implements Mac {
  sign(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(this.signNow(key, data));
  }

  /** The signature, computed before this returns. */
  signNow(key: Uint8Array, data: Uint8Array): Uint8Array {
    return new Uint8Array(createHmac("sha256", key).update(data).digest());
  }

  verify(key: Uint8Array, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
    const expected = createHmac("sha256", key).update(data).digest();
    return Promise.resolve(
      signature.length === expected.length && timingSafeEqual(signature, expected),
    );
  }
}
