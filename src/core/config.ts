/** Time-outs and limits of a server, with the defaults it runs on when nothing is configured. */

/** Everything tunable about a running server's protocol behaviour. */
export interface Limits {
  /** A connection must deliver its 389 bytes within this time. */
  readTimeoutMs: number;
  // Fair service of connections (src/server/connection_slots.ts).
  /**
   * Connections in hand at once. A new one past it takes the slot of the connection idle
   * longest while waiting for its datagram, or is closed at once if none is waiting.
   */
  maxConnections: number;
  /** Connections in hand at once from one source address (an IPv6 /64 counts as one). */
  maxConnectionsPerSource: number;
  /** Datagrams queued or running per account before new ones are answered `busy`. */
  queuePerAccount: number;
  /** Datagrams waiting to be sent per peer pair; more are dropped (resends recover them). */
  outboxPerPeer: number;
  /** Connecting to a peer's server and delivering a datagram must finish within this time. */
  sendTimeoutMs: number;
  /** First trustline resend delay; doubles per attempt up to {@linkcode Limits.retryMaxMs}. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** A path search lives at most this long at any account (the design caps it at 30 s). */
  searchTimeoutMs: number;
  /** Deepest round of each search front; a path has at most twice this many hops. */
  maxDepth: number;
  /** Searches one account takes part in at once, as root or on the way. */
  maxSearchesPerAccount: number;
  /** Unanswered search probes are sent again after this long, doubling. */
  probeTimeoutMs: number;
  /** Resends before a silent neighbour is left out of a search round. */
  probeRetries: number;
  // The directed walk (docs/protocol.md §5.2).
  /** Spanning trees whose coordinates make up an account's routing label; 0 turns the walk off. */
  labelTrees: number;
  /** Accounts one walk may try, dead ends included, before the buyer falls back to the flood. */
  walkBudget: number;
  /**
   * How long the seller waits for the buyer's walk before it starts its own flood, whose
   * rounds it paces over as long again; the buyer starts walks by other trees for twice it.
   */
  walkWaitMs: number;
  /** How long a payment lock holds before step 2 (commit); any account may let it go after. */
  lockTimeoutMs: number;
  /** After committing, how long an account resends the commit before asking whether it arrived. */
  commitQueryMs: number;
  /** First resend delay of payment steps; doubles up to {@linkcode Limits.stepRetryMaxMs}. */
  stepRetryBaseMs: number;
  stepRetryMaxMs: number;
  // Deadlines after the commit (docs/protocol.md §9).
  /** The buyer's deadline, from its commit: past it a silent downstream is charged for the wait. */
  commitDeadlineMs: number;
  /** How much shorter each account makes the deadline it passes down (and the claim time longer). */
  commitMarginMs: number;
  /** How long releasing a silent downstream's payment takes to reach the whole amount. */
  releasePeriodMs: number;
  /** How often a release is raised. */
  releaseChunkMs: number;
  /** How long an account must have been running before it releases anything, after a restart. */
  releaseGraceMs: number;
  /** Longest time between two queries of a committed payment. */
  queryRetryMaxMs: number;
  // Per-neighbour limits (docs/protocol.md §8): what one neighbour can make an account hold.
  /** Locks passing through for others may hold at most this share (%) of the trustline on each edge. */
  peerLockSharePercent: number;
  /** Payments in flight with one neighbour beyond which no more pass through to or from it. */
  peerPaymentsInFlight: number;
  /** Search states one neighbour may open at an account. */
  peerSearches: number;
  /**
   * Payments a neighbour may hold up (a commit to it whose query it left unanswered) before no
   * more payments pass through towards it; 0 turns the limit off.
   */
  peerHeldUp: number;
  /** How long a neighbour may leave a commit, or a query of it, without a word before it holds the payment up. */
  heldUpAfterMs: number;
  /**
   * Payments a neighbour may keep unsettled (no committed, abort or claim, however often it
   * says waiting) past `waitingAfterMs` before no more pass through towards it; 0: off.
   */
  peerWaiting: number;
  /** How long a neighbour may answer a commit with nothing but waiting before that counts. */
  waitingAfterMs: number;
  /**
   * Locks a neighbour may leave unanswered (neither locked nor abort) past `slowLockAfterMs`
   * before no more payments pass through towards it; 0: off.
   */
  peerSlowLocks: number;
  /** How long a neighbour may leave a lock unanswered before it counts against `peerSlowLocks`. */
  slowLockAfterMs: number;
  /** Search slots of an account that only its own payments may use. */
  ownSearchesReserved: number;
  /** Overrides of the per-neighbour limits, by {@linkcode peerLimitsKey}. */
  peerOverrides: ReadonlyMap<string, Partial<PeerLimits>>;
}

/** The names of the limits that are numbers (all but the overrides). */
export type NumericLimit = {
  [K in keyof Limits]: Limits[K] extends number ? K : never;
}[keyof Limits];

/** The per-neighbour limits that apply to one peer of one account. */
export type PeerLimits = Pick<
  Limits,
  | "peerLockSharePercent"
  | "peerPaymentsInFlight"
  | "peerSearches"
  | "peerHeldUp"
  | "peerWaiting"
  | "peerSlowLocks"
>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The built-in defaults. */
export const DEFAULT_LIMITS: Readonly<Limits> = {
  readTimeoutMs: 5_000,
  maxConnections: 512,
  maxConnectionsPerSource: 64,
  queuePerAccount: 64,
  outboxPerPeer: 256,
  sendTimeoutMs: 5_000,
  retryBaseMs: 500,
  retryMaxMs: 60_000,
  searchTimeoutMs: 30_000,
  maxDepth: 5,
  maxSearchesPerAccount: 64,
  probeTimeoutMs: 1_000,
  probeRetries: 2,
  labelTrees: 3,
  walkBudget: 96,
  walkWaitMs: 500,
  lockTimeoutMs: 15_000,
  commitQueryMs: 5_000,
  stepRetryBaseMs: 250,
  stepRetryMaxMs: 4_000,
  commitDeadlineMs: 6 * HOUR,
  commitMarginMs: 5 * MINUTE,
  releasePeriodMs: 3 * DAY,
  releaseChunkMs: HOUR,
  releaseGraceMs: MINUTE,
  queryRetryMaxMs: MINUTE,
  peerLockSharePercent: 50,
  peerPaymentsInFlight: 64,
  peerSearches: 16,
  peerHeldUp: 1,
  heldUpAfterMs: 2_000,
  peerWaiting: 2,
  waitingAfterMs: 10_000,
  peerSlowLocks: 2,
  slowLockAfterMs: 3_000,
  ownSearchesReserved: 16,
  peerOverrides: new Map(),
};

/**
 * The key of a per-peer override: the local account (or `*` for every account) and the
 * peer as `name@address`.
 *
 * @example
 * ```ts
 * import { peerLimitsKey } from "./config.ts";
 * peerLimitsKey("alice", "bob@b.example"); // "alice bob@b.example"
 * ```
 */
export function peerLimitsKey(account: string, peer: string): string {
  return `${account} ${peer}`;
}

/**
 * The per-neighbour limits for `peer` (as `name@address`) at `account`: the account's own
 * override first, then one for every account, then the server's defaults.
 *
 * @example
 * ```ts
 * import { DEFAULT_LIMITS, peerLimitsFor } from "./config.ts";
 * const limits = { ...DEFAULT_LIMITS, peerOverrides: new Map([["* bob@b", { peerSearches: 4 }]]) };
 * peerLimitsFor(limits, "alice", "bob@b").peerSearches; // 4
 * peerLimitsFor(limits, "alice", "carol@c").peerSearches; // 16
 * ```
 */
export function peerLimitsFor(
  limits: Pick<Limits, keyof PeerLimits | "peerOverrides">,
  account: string,
  peer: string,
): PeerLimits {
  return {
    peerLockSharePercent: limits.peerLockSharePercent,
    peerPaymentsInFlight: limits.peerPaymentsInFlight,
    peerSearches: limits.peerSearches,
    peerHeldUp: limits.peerHeldUp,
    peerWaiting: limits.peerWaiting,
    peerSlowLocks: limits.peerSlowLocks,
    ...limits.peerOverrides.get(peerLimitsKey("*", peer)),
    ...limits.peerOverrides.get(peerLimitsKey(account, peer)),
  };
}

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
export function retryDelay(
  limits: Pick<Limits, "retryBaseMs" | "retryMaxMs">,
  attempt: number,
  random: () => number,
): number {
  const base = Math.min(limits.retryBaseMs * 2 ** Math.min(attempt, 30), limits.retryMaxMs);
  return Math.round(base * (1 + random() / 4));
}

// Display unit (issue 15): how people see amounts. The wire and the books keep integers.

/**
 * How a server's amounts are shown to people: the integer 2550 with `decimals` 2 and `unit`
 * "hours" reads "25.50 hours". Every client of the server (the CLI, the web wallet) uses it.
 */
export interface DisplayUnit {
  /** A short name, printable ASCII without spaces (at most 32 bytes); "" for none. */
  unit: string;
  /** Decimal places: amounts on the wire are counted in units of 10^-decimals. */
  decimals: number;
}

/** Whole numbers with no unit: what a server shows unless its operator sets one. */
export const DEFAULT_DISPLAY: Readonly<DisplayUnit> = { unit: "", decimals: 0 };

/** Most decimal places a server may use; 10^18 still leaves 18 whole units in a u64. */
export const MAX_DECIMALS = 18;
