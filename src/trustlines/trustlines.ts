/** Trustlines: client commands 0–4 and the server commands that carry a trustline to the peer and confirm it. */

import { MAX_COUNTER } from "../auth/counters.ts";
import { type Limits, retryDelay } from "../core/config.ts";
import { clientCommand, type Context, type Feature, serverCommand } from "../core/context.ts";
import { listPeers, type PeerFile, peerPath } from "../store/paths.ts";
import {
  amountArgs,
  getTrustlineArgs,
  noArgs,
  PAGE_SIZE,
  pageArgs,
  pageHeader,
  peerEntry,
  setTrustlineArgs,
  trustlineCounterArgs,
  trustlineInBody,
  trustlineOutBody,
} from "../wire/arguments.ts";
import { ClientCommand, ServerCommand } from "../wire/commands.ts";
import { concatBytes } from "../wire/layout.ts";
import { readBooks } from "../store/books.ts";
import { type AccountRef, formatAccountRef } from "../wire/names.ts";
import { Status } from "../wire/response.ts";

/** What the trustline feature needs from the server. */
export interface TrustlineOptions {
  limits: Limits;
  random: () => number;
}

const encoder = new TextEncoder();

/**
 * The trustline protocol. alice's trustline to bob is kept by alice's server as
 * *trustline out* with `counter` (changes made) and `sync_out` (highest counter bob's
 * server confirmed); bob's server keeps it as *trustline in* with `sync_in` and
 * `timestamp`. A change is resent until `sync_out` reaches `counter`.
 *
 * @example
 * ```ts ignore
 * const feature = createTrustlines({ limits: DEFAULT_LIMITS, random: Math.random });
 * feature.clientCommands![ClientCommand.SetTrustline]; // the handler of client command 0
 * ```
 */
export function createTrustlines(options: TrustlineOptions): Feature {
  /** Resend attempts per unsynced trustline, for the back-off; forgotten once synced. */
  const attempts = new Map<string, number>();
  const attemptKey = (ctx: Context, peer: AccountRef) =>
    `${ctx.username} ${formatAccountRef(peer)}`;
  const file = (ctx: Context, peer: AccountRef, name: PeerFile) =>
    peerPath(ctx.username, peer, name);

  const sendTrustline = async (ctx: Context, peer: AccountRef) => {
    const amount = await ctx.tx.getBigint(file(ctx, peer, "trustline_out.txt"));
    const counter = await ctx.tx.getNumber(file(ctx, peer, "counter.txt"));
    ctx.send(peer, ServerCommand.SetTrustline, setTrustlineArgs.encode({ amount, counter }));
    return counter;
  };

  const resendLater = (ctx: Context, peer: AccountRef) => {
    const key = attemptKey(ctx, peer);
    const attempt = attempts.get(key) ?? 0;
    attempts.set(key, attempt + 1);
    ctx.wakeAt(ctx.now + retryDelay(options.limits, attempt, options.random));
  };

  const clientCommands = {
    [ClientCommand.SetTrustline]: clientCommand({
      args: amountArgs,
      peer: "known",
      async handle(ctx, { amount }) {
        const counter = (await ctx.tx.getNumber(file(ctx, ctx.peer, "counter.txt"))) + 1;
        if (counter > MAX_COUNTER) {
          return {
            status: Status.Refused,
            body: encoder.encode("this trustline cannot be changed again"),
          };
        }
        ctx.tx.setNumber(file(ctx, ctx.peer, "trustline_out.txt"), amount);
        ctx.tx.setNumber(file(ctx, ctx.peer, "counter.txt"), counter);
        ctx.send(
          ctx.peer,
          ServerCommand.SetTrustline,
          setTrustlineArgs.encode({ amount, counter }),
        );
        attempts.delete(attemptKey(ctx, ctx.peer));
        resendLater(ctx, ctx.peer);
        ctx.log.info("trustline-set", {
          account: ctx.username,
          peer: formatAccountRef(ctx.peer),
          amount,
          counter,
        });
        return { status: Status.Ok };
      },
    }),
    [ClientCommand.SyncTrustlineIn]: clientCommand({
      args: noArgs,
      peer: "known",
      async handle(ctx) {
        const syncIn = await ctx.tx.getNumber(file(ctx, ctx.peer, "sync_in.txt"));
        ctx.send(ctx.peer, ServerCommand.GetTrustline, getTrustlineArgs.encode({ syncIn }));
        return { status: Status.Ok };
      },
    }),
    [ClientCommand.SyncTrustlineOut]: clientCommand({
      args: noArgs,
      peer: "known",
      async handle(ctx) {
        const counter = await sendTrustline(ctx, ctx.peer);
        if (counter > (await ctx.tx.getNumber(file(ctx, ctx.peer, "sync_out.txt")))) {
          resendLater(ctx, ctx.peer);
        }
        return { status: Status.Ok };
      },
    }),
    [ClientCommand.GetTrustlineIn]: clientCommand({
      args: noArgs,
      peer: "known",
      async handle(ctx) {
        const body = trustlineInBody.encode({
          amount: await ctx.tx.getBigint(file(ctx, ctx.peer, "trustline_in.txt")),
          syncIn: await ctx.tx.getNumber(file(ctx, ctx.peer, "sync_in.txt")),
          lastSync: await ctx.tx.getBigint(file(ctx, ctx.peer, "timestamp.txt")),
        });
        return { status: Status.Ok, body };
      },
    }),
    [ClientCommand.ListPeers]: clientCommand({
      args: pageArgs,
      peer: "none",
      async handle(ctx, { offset }) {
        const peers = await listPeers(ctx.tx, ctx.username);
        const entries = [];
        for (const peer of peers.slice(offset, offset + PAGE_SIZE)) {
          const books = await readBooks(ctx.tx, ctx.username, peer);
          entries.push(peerEntry.encode({
            username: peer.username,
            address: peer.address,
            trustlineOut: books.trustlineOut,
            trustlineIn: books.trustlineIn,
            balance: books.balance,
          }));
        }
        const header = pageHeader.encode({ total: peers.length, count: entries.length });
        return { status: Status.Ok, body: concatBytes([header, ...entries]) };
      },
    }),
    [ClientCommand.GetTrustlineOut]: clientCommand({
      args: noArgs,
      peer: "known",
      async handle(ctx) {
        const body = trustlineOutBody.encode({
          amount: await ctx.tx.getBigint(file(ctx, ctx.peer, "trustline_out.txt")),
          counter: await ctx.tx.getNumber(file(ctx, ctx.peer, "counter.txt")),
          syncOut: await ctx.tx.getNumber(file(ctx, ctx.peer, "sync_out.txt")),
        });
        return { status: Status.Ok, body };
      },
    }),
  };

  const serverCommands = {
    [ServerCommand.SetTrustline]: serverCommand({
      args: setTrustlineArgs,
      async handle(ctx, { amount, counter }) {
        const syncIn = await ctx.tx.getNumber(file(ctx, ctx.peer, "sync_in.txt"));
        const fields = { account: ctx.username, peer: formatAccountRef(ctx.peer), amount, counter };
        if (counter > syncIn) {
          ctx.tx.setNumber(file(ctx, ctx.peer, "trustline_in.txt"), amount);
          ctx.tx.setNumber(file(ctx, ctx.peer, "sync_in.txt"), counter);
          ctx.log.info("trustline-received", fields);
        } else if (counter < syncIn) {
          ctx.log.debug("trustline-stale", { ...fields, syncIn });
        }
        if (counter >= syncIn) {
          ctx.tx.setNumber(file(ctx, ctx.peer, "timestamp.txt"), seconds(ctx.now));
        }
        const held = Math.max(counter, syncIn);
        ctx.send(
          ctx.peer,
          ServerCommand.SetSyncOut,
          trustlineCounterArgs.encode({ counter: held }),
        );
      },
    }),
    [ServerCommand.GetTrustline]: serverCommand({
      args: getTrustlineArgs,
      async handle(ctx, { syncIn }) {
        const counter = await ctx.tx.getNumber(file(ctx, ctx.peer, "counter.txt"));
        if (counter > syncIn) {
          await sendTrustline(ctx, ctx.peer);
        } else if (counter === syncIn) {
          ctx.send(ctx.peer, ServerCommand.SetTimestamp, trustlineCounterArgs.encode({ counter }));
        } else {
          ctx.log.warn("trustline-peer-ahead", {
            account: ctx.username,
            peer: formatAccountRef(ctx.peer),
            counter,
            syncIn,
          });
        }
      },
    }),
    [ServerCommand.SetSyncOut]: serverCommand({
      args: trustlineCounterArgs,
      async handle(ctx, { counter }) {
        const ours = await ctx.tx.getNumber(file(ctx, ctx.peer, "counter.txt"));
        const syncOut = await ctx.tx.getNumber(file(ctx, ctx.peer, "sync_out.txt"));
        if (counter > ours) {
          ctx.log.warn("trustline-confirm-ahead", {
            account: ctx.username,
            peer: formatAccountRef(ctx.peer),
            counter,
            ours,
          });
          return;
        }
        if (counter > syncOut) ctx.tx.setNumber(file(ctx, ctx.peer, "sync_out.txt"), counter);
        if (counter === ours && counter > syncOut) {
          attempts.delete(attemptKey(ctx, ctx.peer));
          ctx.log.info("trustline-synced", {
            account: ctx.username,
            peer: formatAccountRef(ctx.peer),
            counter,
          });
        }
      },
    }),
    [ServerCommand.SetTimestamp]: serverCommand({
      args: trustlineCounterArgs,
      async handle(ctx, { counter }) {
        const syncIn = await ctx.tx.getNumber(file(ctx, ctx.peer, "sync_in.txt"));
        if (counter === syncIn) {
          ctx.tx.setNumber(file(ctx, ctx.peer, "timestamp.txt"), seconds(ctx.now));
        }
      },
    }),
  };

  return {
    clientCommands,
    serverCommands,
    // The receiver of 128 keeps only the highest counter, and 130 only raises sync_out: a
    // newer one makes the one still waiting obsolete, so a busy trustline costs one
    // exchange per round trip, not one per change (docs/protocol.md §4).
    superseding: new Set([ServerCommand.SetTrustline, ServerCommand.SetSyncOut]),
    async wake(ctx) {
      for (const peer of await listPeers(ctx.tx, ctx.username)) {
        const counter = await ctx.tx.getNumber(file(ctx, peer, "counter.txt"));
        if (counter <= (await ctx.tx.getNumber(file(ctx, peer, "sync_out.txt")))) continue;
        await sendTrustline(ctx, peer);
        resendLater(ctx, peer);
      }
    },
  };
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}
