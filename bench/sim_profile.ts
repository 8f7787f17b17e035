/**
 * Where the simulator's time goes in a path study: runs one study under V8's sampling
 * profiler and prints the functions with the most samples of their own, and the share of
 * each source file.
 *
 *   deno run -A bench/sim_profile.ts [--servers 100] [--accounts 8000] [--pairs 3] [--out FILE]
 *
 * `--out` also writes the profile (`.cpuprofile`, for Chrome's DevTools).
 */

import { Session } from "node:inspector";
import { parseArgs } from "node:util";
import { runPathStudy } from "../src/sim/paths.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    servers: { type: "string", default: "100" },
    accounts: { type: "string", default: "8000" },
    pairs: { type: "string", default: "3" },
    out: { type: "string" },
  },
});

const session = new Session();
session.connect();
function post<T>(method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params, (error, result) => error ? reject(error) : resolve(result as T))
  );
}

await post("Profiler.enable");
await post("Profiler.setSamplingInterval", { interval: 2_000 });
await post("Profiler.start");
const started = performance.now();
const study = await runPathStudy({
  seed: 1,
  servers: Number(values.servers),
  accounts: Number(values.accounts),
  degree: 4,
  pairs: Number(values.pairs),
  limits: {},
});
const seconds = (performance.now() - started) / 1000;
const { profile } = await post<{ profile: Profile }>("Profiler.stop");
session.disconnect();
if (values.out !== undefined) Deno.writeTextFileSync(values.out, JSON.stringify(profile));

const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
const own = new Map<string, number>();
const files = new Map<string, number>();
const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
for (const id of profile.samples) {
  const { functionName, url, lineNumber } = byNode.get(id)!.callFrame;
  const file = url.split("/").pop() || "(native)";
  add(own, `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`);
  add(files, file);
}
const top = (map: Map<string, number>, n: number) =>
  [...map].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([key, count]) =>
      `${(100 * count / profile.samples.length).toFixed(1).padStart(5)}%  ${key}`
    ).join("\n");
console.log(
  `${values.accounts} accounts on ${values.servers} servers, ${values.pairs} pairs: ` +
    `${seconds.toFixed(1)} s, ${study.violations.length} violations, ` +
    `${profile.samples.length} samples\n\nown time, by function:\n${top(own, 25)}\n\n` +
    `own time, by file:\n${top(files, 12)}`,
);
