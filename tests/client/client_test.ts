/** The client library against an in-process server: two clients sharing one counter, in turn or not. */

import assert from "node:assert/strict";
import { Client, type Exchange } from "../../src/client/client.ts";
import { MemoryCounterStore } from "../../src/client/counter_store.ts";
import { ClientCommand } from "../../src/wire/commands.ts";
import { pageArgs } from "../../src/wire/arguments.ts";
import { Status } from "../../src/wire/response.ts";
import { LocalNetwork } from "../support/local_network.ts";

const alice = { username: "alice", address: "127.0.0.2" };

/** Two clients of alice with one counter store, as two tabs of the wallet. */
async function twoTabs(net: LocalNetwork, exclusive?: <T>(run: () => Promise<T>) => Promise<T>) {
  await net.start(alice.address);
  const key = await net.account(alice);
  const node = net.servers.get(alice.address)!.node;
  const counters = new MemoryCounterStore();
  const answers: number[] = [];
  let sent = 0;
  const exchange: Exchange = async (_address, request) => {
    // The earlier a request is sent, the longer it takes: left alone, later ones overtake it.
    await new Promise((resolve) => setTimeout(resolve, 2 * Math.max(0, 10 - sent++)));
    const answer = (await node.receive(request))!;
    answers.push(answer[0]);
    return answer;
  };
  const tab = () =>
    new Client({ server: alice.address, account: "alice", key, counters, exchange, exclusive });
  return { tabs: [tab(), tab()], answers };
}

function listPeers(client: Client): Promise<number> {
  return client.request(ClientCommand.ListPeers, null, pageArgs.encode({ offset: 0 }))
    .then((answer) => answer.status);
}

Deno.test("clients that take turns send their counters in order: no replay at all", async () => {
  await using net = new LocalNetwork();
  let turn = Promise.resolve();
  const exclusive = <T>(run: () => Promise<T>): Promise<T> => {
    const result = turn.then(run);
    turn = result.then(() => {}, () => {});
    return result;
  };
  const { tabs, answers } = await twoTabs(net, exclusive);
  const statuses = await Promise.all(
    tabs.flatMap((tab) => [1, 2, 3, 4, 5].map(() => listPeers(tab))),
  );
  assert.deepEqual(statuses, Array(10).fill(Status.Ok));
  assert.deepEqual(
    answers,
    Array(10).fill(Status.Ok),
    "every exchange was accepted the first time",
  );
});

Deno.test("clients that do not take turns are overtaken and answered replay, then send again", async () => {
  await using net = new LocalNetwork();
  const { tabs, answers } = await twoTabs(net);
  const statuses = await Promise.all(
    tabs.flatMap((tab) => [1, 2, 3, 4, 5].map(() => listPeers(tab))),
  );
  assert.ok(answers.includes(Status.Replay), `some counter was overtaken: ${answers}`);
  assert.ok(statuses.every((status) => status === Status.Ok || status === Status.Replay));
});
