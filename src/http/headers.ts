/** The headers of every HTTP answer: a strict Content-Security-Policy and the usual security headers. */

/**
 * Only the server's own script, style and image; requests only back to the server; no
 * frames, no plugins, no form submissions (the page's forms are handled by its script, so
 * a form can never send a key anywhere, even if the script failed to load), and Trusted
 * Types so that no string ever becomes markup.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

/** Sent with every answer, whatever its status. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Permissions-Policy":
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), clipboard-read=(), clipboard-write=(self)",
};

/** Why a request was refused before it reached the node: its status, and the reason for the log. */
export interface Refusal {
  status: number;
  reason: string;
  headers?: Record<string, string>;
  /** Already logged where it was decided (an eviction, by the slots table). */
  logged?: boolean;
}

/**
 * An answer with the security headers and the `extra` ones.
 *
 * @example
 * ```ts
 * import { answer } from "./headers.ts";
 * const response = answer(404, null, { "Cache-Control": "no-store" });
 * response.headers.get("X-Content-Type-Options"); // "nosniff"
 * ```
 */
export function answer(
  status: number,
  body: Uint8Array | string | null,
  extra: Record<string, string> = {},
): Response {
  return new Response(body as BodyInit | null, {
    status,
    headers: { ...SECURITY_HEADERS, ...extra },
  });
}
