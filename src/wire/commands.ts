/** Command numbers: 0–127 are sent by clients, 128–255 by servers. */

/** Client commands, numbered as in the design brief. */
export const ClientCommand = {
  SetTrustline: 0,
  SyncTrustlineIn: 1,
  SyncTrustlineOut: 2,
  GetTrustlineIn: 3,
  GetTrustlineOut: 4,
  NewPaymentOut: 5,
  NewPaymentIn: 6,
  GetPayment: 7,
  GetBalance: 8,
  ListPeers: 9,
  ListPayments: 10,
  ServerInfo: 11,
  GetLabel: 20,
} as const;

/** Server commands, sent between peer accounts' servers; see docs/protocol.md. */
export const ServerCommand = {
  SetTrustline: 128,
  GetTrustline: 129,
  SetSyncOut: 130,
  SetTimestamp: 131,
  Search: 132,
  SearchReport: 133,
  Lock: 134,
  Locked: 135,
  Commit: 136,
  Committed: 137,
  Query: 138,
  Finalize: 139,
  Finalized: 140,
  Abort: 141,
  SearchEnd: 142,
  Release: 143,
  Claim: 144,
  Settled: 145,
  Waiting: 146,
  Label: 150,
  Walk: 151,
  WalkReport: 152,
} as const;

const NAMES = new Map<number, string>([
  ...Object.entries(ClientCommand).map(([name, n]) => [n, kebab(name)] as const),
  ...Object.entries(ServerCommand).map(([name, n]) => [n, `server-${kebab(name)}`] as const),
]);

/**
 * The name of a command for logs, or `command-N` for an unknown number.
 *
 * @example
 * ```ts
 * import { commandName } from "./commands.ts";
 * commandName(0); // "set-trustline"
 * commandName(128); // "server-set-trustline"
 * ```
 */
export function commandName(command: number): string {
  return NAMES.get(command) ?? `command-${command}`;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c, i) => (i === 0 ? "" : "-") + c.toLowerCase());
}
