/** The web wallet's files, read once at start from `assets/` (which `deno compile --include` puts in the binary). */

import { toHex } from "../auth/keys.ts";
import { answer, type Refusal } from "./headers.ts";

/** One file the server hands out. */
export interface Asset {
  bytes: Uint8Array;
  contentType: string;
  /** A strong validator of the content, for `If-None-Match`; null for what must not be cached. */
  etag: string | null;
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

/**
 * The answer to a `GET` or `HEAD` of `asset` (undefined: no such file). Files carry their
 * `ETag` and are revalidated on every load, so a new binary's page is used at once; the
 * others are not stored at all.
 *
 * @example
 * ```ts
 * import { fileAnswer } from "./assets.ts";
 * const asset = { bytes: new Uint8Array([1]), contentType: "image/png", etag: '"a"' };
 * const response = fileAnswer(new Request("http://x/", { headers: { "If-None-Match": '"a"' } }), asset);
 * (response as Response).status; // 304
 * ```
 */
export function fileAnswer(request: Request, asset: Asset | undefined): Response | Refusal {
  if (asset === undefined) return { status: 404, reason: "no such file" };
  if (request.method !== "GET" && request.method !== "HEAD") {
    return { status: 405, reason: "files are read with GET", headers: { Allow: "GET, HEAD" } };
  }
  const headers: Record<string, string> = { "Content-Type": asset.contentType };
  if (asset.etag === null) {
    headers["Cache-Control"] = "no-store";
  } else {
    headers["Cache-Control"] = "no-cache";
    headers["ETag"] = asset.etag;
    if (request.headers.get("If-None-Match") === asset.etag) return answer(304, null, headers);
  }
  return answer(200, request.method === "HEAD" ? null : asset.bytes, headers);
}
