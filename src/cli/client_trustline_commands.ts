/** The `ripple client` subcommands of trustlines and balances. */

import { formatAmount, formatDecimal } from "../client/amounts.ts";
import * as api from "../client/commands.ts";
import { formatAccountRef } from "../wire/names.ts";
import { amountArg, peerArg, type Subcommand } from "./client_call.ts";
import { peerLine, shownTime, standing } from "./client_output.ts";

/** The trustline and balance subcommands, by name. */
export const TRUSTLINE_COMMANDS: Record<string, Subcommand> = {
  "set-trustline": {
    usage: "set-trustline PEER AMOUNT",
    summary: "extend AMOUNT of credit to PEER (NAME@ADDRESS)",
    help: `Lets PEER (NAME@ADDRESS) owe this account up to AMOUNT, in the server's display unit;
0 takes the credit back. The server sends it to PEER's server and keeps resending until
that server confirms (see get-trustline-out).

Example:
  ripple client set-trustline alice@127.0.0.2 100`,
    args: 2,
    async run({ args: [peerText, amountText], print, client, display }) {
      const peer = peerArg(peerText);
      const unit = await display();
      const amount = amountArg(amountText, unit, false);
      await api.setTrustline(client, peer, amount);
      print(
        `Trustline to ${formatAccountRef(peer)} set to ${
          formatAmount(amount, unit)
        }; it is on its way to the peer's server.`,
        { peer: formatAccountRef(peer), amount: formatDecimal(amount, unit.decimals) },
      );
      return true;
    },
  },
  "get-trustline-out": {
    usage: "get-trustline-out PEER [--wait]",
    summary: "our trustline to PEER, and whether PEER's server has it",
    help: `Shows the credit this account extends to PEER, how many times it was changed, and
whether PEER's server has confirmed the latest change.

Options:
  --wait               wait until PEER's server confirms (exit status 1 if it does not)
  --timeout SECONDS    how long --wait waits (default 60)`,
    args: 1,
    async run({ args: [peerText], print, client, display, options }) {
      const peer = peerArg(peerText);
      const end = Date.now() + options.timeoutMs;
      let line = await api.getTrustlineOut(client, peer);
      while (options.wait && line.syncOut !== line.counter && Date.now() < end) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        line = await api.getTrustlineOut(client, peer);
      }
      const unit = await display();
      const synced = line.syncOut === line.counter;
      const state = synced
        ? "confirmed by the peer's server"
        : `the peer's server has change ${line.syncOut}`;
      print(
        `Trustline to ${formatAccountRef(peer)}: ${
          formatAmount(line.amount, unit)
        } (change ${line.counter}, ${state})`,
        {
          peer: formatAccountRef(peer),
          amount: formatDecimal(line.amount, unit.decimals),
          counter: line.counter,
          syncOut: line.syncOut,
          synced,
        },
      );
      return synced || !options.wait;
    },
  },
  "get-trustline-in": {
    usage: "get-trustline-in PEER",
    summary: "PEER's trustline to us",
    help: `Shows the credit PEER extends to this account, as PEER's server last sent it.`,
    args: 1,
    async run({ args: [peerText], print, client, display }) {
      const peer = peerArg(peerText);
      const line = await api.getTrustlineIn(client, peer);
      const unit = await display();
      const when = line.lastSync === 0
        ? "never synced"
        : `last synced ${shownTime(line.lastSync * 1000)}`;
      print(
        `Trustline from ${formatAccountRef(peer)}: ${
          formatAmount(line.amount, unit)
        } (change ${line.syncIn}, ${when})`,
        {
          peer: formatAccountRef(peer),
          amount: formatDecimal(line.amount, unit.decimals),
          syncIn: line.syncIn,
          lastSync: line.lastSync,
        },
      );
      return true;
    },
  },
  "sync-trustline-out": {
    usage: "sync-trustline-out PEER",
    summary: "send our trustline to PEER's server again now",
    help: `Sends this account's trustline to PEER's server again at once, instead of at the next
resend.`,
    args: 1,
    async run({ args: [peerText], print, client }) {
      const peer = peerArg(peerText);
      await api.syncTrustlineOut(client, peer);
      print(`Trustline to ${formatAccountRef(peer)} sent again.`, { peer: formatAccountRef(peer) });
      return true;
    },
  },
  "sync-trustline-in": {
    usage: "sync-trustline-in PEER",
    summary: "ask PEER's server to send its trustline again",
    help: `Asks PEER's server to send PEER's trustline to this account again.`,
    args: 1,
    async run({ args: [peerText], print, client }) {
      const peer = peerArg(peerText);
      await api.syncTrustlineIn(client, peer);
      print(`Asked ${formatAccountRef(peer)}'s server to send its trustline again.`, {
        peer: formatAccountRef(peer),
      });
      return true;
    },
  },
  balance: {
    usage: "balance PEER",
    summary: "the balance with PEER and the amounts locked by payments",
    help: `Shows who owes whom between this account and PEER, and the amounts locked by payments
still in flight in each direction.`,
    args: 1,
    async run({ args: [peerText], print, client, display }) {
      const peer = peerArg(peerText);
      const books = await api.getBalance(client, peer);
      const unit = await display();
      print(
        `With ${formatAccountRef(peer)}: ${
          standing(peer, books.balance, unit)
        }; locked towards us ${formatAmount(books.lockedIn, unit)}, towards them ${
          formatAmount(books.lockedOut, unit)
        }`,
        {
          peer: formatAccountRef(peer),
          balance: formatDecimal(books.balance, unit.decimals),
          lockedIn: formatDecimal(books.lockedIn, unit.decimals),
          lockedOut: formatDecimal(books.lockedOut, unit.decimals),
        },
      );
      return true;
    },
  },
  peers: {
    usage: "peers [--offset N]",
    summary: "the account's peers with trustlines and balances",
    help: `Lists the account's peers, 100 at a time (--offset N starts at entry N): who owes whom,
the credit we extend to each, and the credit each extends to us. In --json, balance is
what the peer owes us (negative: what we owe the peer).`,
    args: 0,
    async run({ print, client, display, options }) {
      const page = await api.listPeers(client, options.offset);
      const unit = await display();
      const lines = page.peers.map((p) => peerLine(p.peer, p, unit));
      print(`${page.total} peer(s)${lines.length ? "\n" + lines.join("\n") : ""}`, {
        total: page.total,
        peers: page.peers.map((p) => ({
          peer: formatAccountRef(p.peer),
          trustlineOut: formatDecimal(p.trustlineOut, unit.decimals),
          trustlineIn: formatDecimal(p.trustlineIn, unit.decimals),
          balance: formatDecimal(p.balance, unit.decimals),
        })),
      });
      return true;
    },
  },
};
