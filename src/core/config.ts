/** Time-outs and limits of a server, with the defaults it runs on when nothing is configured. */

/** Everything tunable about a running server's protocol behaviour. */
export interface Limits {
  /** A connection must deliver its 389 bytes within this time. */
  readTimeoutMs: number;
  /** Connections handled at once; more wait in the kernel's backlog. */
  maxConnections: number;
  /** Datagrams queued or running per account before new ones are answered `busy`. */
  queuePerAccount: number;
  /** Datagrams waiting to be sent per peer pair; more are dropped (resends recover them). */
  outboxPerPeer: number;
  /** Connecting to a peer's server and delivering a datagram must finish within this time. */
  sendTimeoutMs: number;
  /** First resend delay; doubles per attempt up to {@linkcode Limits.retryMaxMs}. */
  retryBaseMs: number;
  retryMaxMs: number;
}

/** The built-in defaults. */
export const DEFAULT_LIMITS: Readonly<Limits> = {
  readTimeoutMs: 5_000,
  maxConnections: 512,
  queuePerAccount: 64,
  outboxPerPeer: 256,
  sendTimeoutMs: 5_000,
  retryBaseMs: 500,
  retryMaxMs: 60_000,
};

/**
 * The delay before resend attempt `attempt` (0-based): doubling from `retryBaseMs`,
 * capped at `retryMaxMs`, with up to a quarter of random spread so that many resends
 * do not fire together.
 *
 * @example
 * ```ts
 * import { DEFAULT_LIMITS, retryDelay } from "./config.ts";
 * retryDelay(DEFAULT_LIMITS, 0, () => 0); // 500
 * retryDelay(DEFAULT_LIMITS, 20, () => 0); // 60000
 * ```
 */
export function retryDelay(limits: Limits, attempt: number, random: () => number): number {
  const base = Math.min(limits.retryBaseMs * 2 ** Math.min(attempt, 30), limits.retryMaxMs);
  return Math.round(base * (1 + random() / 4));
}
