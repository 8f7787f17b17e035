/** The web wallet's files, read once at start from `assets/` (which `deno compile --include` puts in the binary). */

import { toHex } from "../auth/keys.ts";

/** One file the server hands out. */
export interface Asset {
  bytes: Uint8Array;
  contentType: string;
  /** A strong validator of the content, for `If-None-Match`. */
  etag: string;
}

/** The wallet's files by URL path; `/` is the page itself. */
const FILES: Record<string, [file: string, contentType: string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/wallet.js": ["wallet.js", "text/javascript; charset=utf-8"],
  "/wallet.css": ["wallet.css", "text/css; charset=utf-8"],
  "/icon.svg": ["icon.svg", "image/svg+xml"],
};

/** Where the files are: beside this module, in the checkout and in the compiled binary alike. */
const ASSETS_DIR = new URL("./assets/", import.meta.url);

/**
 * Reads every file of the wallet into memory, so a request never touches the disk and a
 * missing file stops the server at start rather than at the first visitor.
 *
 * @example
 * ```ts
 * import { loadAssets } from "./assets.ts";
 * const assets = await loadAssets();
 * assets.get("/")!.contentType; // "text/html; charset=utf-8"
 * ```
 */
export async function loadAssets(): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const [path, [file, contentType]] of Object.entries(FILES)) {
    const bytes = await Deno.readFile(new URL(file, ASSETS_DIR));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    assets.set(path, { bytes, contentType, etag: `"${toHex(digest.subarray(0, 12))}"` });
  }
  return assets;
}
