/** HMAC-SHA256 signing and constant-time verification, with imported keys cached. */

import { SIGNATURE_SIZE } from "../wire/datagram.ts";

/**
 * The signing primitive the server uses. The production one is WebCrypto; the simulator
 * passes a synchronous one so that runs are deterministic.
 */
export interface Mac {
  sign(key: Uint8Array, data: Uint8Array): Promise<Uint8Array>;
  /** Constant-time comparison of `signature` with the HMAC of `data`. */
  verify(key: Uint8Array, signature: Uint8Array, data: Uint8Array): Promise<boolean>;
}

/** Keys imported at most this many at a time; the oldest is imported again when needed. */
const KEY_CACHE_SIZE = 1024;

/**
 * HMAC-SHA256 with WebCrypto. Each raw key is imported once and the `CryptoKey` kept in a
 * bounded cache; verification uses `crypto.subtle.verify`, which compares in constant time.
 *
 * @example
 * ```ts
 * import { WebCryptoMac } from "./hmac.ts";
 * const mac = new WebCryptoMac();
 * const key = new Uint8Array(32);
 * const data = new TextEncoder().encode("hello");
 * await mac.verify(key, await mac.sign(key, data), data); // true
 * ```
 */
export class WebCryptoMac implements Mac {
  #keys = new Map<string, Promise<CryptoKey>>();

  async sign(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
    return await hmacSign(await this.#import(key), data);
  }

  async verify(key: Uint8Array, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
    return await hmacVerify(await this.#import(key), signature, data);
  }

  #import(key: Uint8Array): Promise<CryptoKey> {
    const id = String.fromCharCode(...key);
    let cryptoKey = this.#keys.get(id);
    if (cryptoKey === undefined) {
      if (this.#keys.size >= KEY_CACHE_SIZE) this.#keys.delete(this.#keys.keys().next().value!);
      cryptoKey = importHmacKey(key);
      this.#keys.set(id, cryptoKey);
    }
    return cryptoKey;
  }
}

/**
 * Imports key bytes as a non-extractable HMAC-SHA256 `CryptoKey`: it signs and verifies,
 * but no script can read the bytes back (the web wallet keeps such a key in IndexedDB).
 *
 * @example
 * ```ts
 * import { importHmacKey } from "./hmac.ts";
 * const key = await importHmacKey(new Uint8Array(32));
 * key.extractable; // false
 * ```
 */
export function importHmacKey(key: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    key as BufferSource,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

/** HMAC-SHA256 of `data` under an imported key. */
export async function hmacSign(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data as BufferSource));
}

/** Whether `signature` is the HMAC-SHA256 of `data` under `key`, compared in constant time. */
export async function hmacVerify(
  key: CryptoKey,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  if (signature.length !== SIGNATURE_SIZE) return false;
  return await crypto.subtle.verify("HMAC", key, signature as BufferSource, data as BufferSource);
}
