/**
 * The functions with the most self time in V8 `.cpuprofile` files (from `deno run
 * --cpu-prof`), as a markdown table: `deno run --allow-read bench/cpuprofile_top.ts
 * [--top N] FILE...`. Several files (e.g. every server of one run) are added up.
 */

import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time of one function, in microseconds. */
export interface SelfTime {
  name: string;
  where: string;
  micros: number;
}

/**
 * Adds up the sampled time of every node by function (name and source position): each
 * sample's time is the delta to the next sample.
 *
 * @example
 * ```ts ignore
 * const top = selfTimes([JSON.parse(await Deno.readTextFile("server.cpuprofile"))]);
 * ```
 */
export function selfTimes(profiles: Profile[]): { total: number; functions: SelfTime[] } {
  const byFunction = new Map<string, SelfTime>();
  let total = 0;
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    for (let i = 0; i < profile.samples.length; i++) {
      const micros = profile.timeDeltas[i + 1] ?? 0;
      const frame = nodes.get(profile.samples[i])!.callFrame;
      const where = frame.url === ""
        ? ""
        : `${frame.url.replace(/^file:\/\/.*?\/(src|bench|tests)\//, "$1/")}:${
          frame.lineNumber + 1
        }`;
      const name = frame.functionName === "" ? "(anonymous)" : frame.functionName;
      const key = `${name} ${where}`;
      const entry = byFunction.get(key) ?? { name, where, micros: 0 };
      entry.micros += micros;
      byFunction.set(key, entry);
      total += micros;
    }
  }
  const functions = [...byFunction.values()].sort((a, b) => b.micros - a.micros);
  return { total, functions };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { top: { type: "string", default: "25" } },
    allowPositionals: true,
  });
  const profiles = await Promise.all(
    positionals.map(async (path) => JSON.parse(await Deno.readTextFile(path)) as Profile),
  );
  const { total, functions } = selfTimes(profiles);
  const busy = functions.filter((f) => f.name !== "(idle)").reduce((sum, f) => sum + f.micros, 0);
  console.log(
    `${positionals.length} profile(s), ${(total / 1e6).toFixed(2)} s sampled, ` +
      `${(busy / 1e6).toFixed(2)} s not idle\n`,
  );
  console.log("| self ms | % of not idle | function | where |");
  console.log("| ---: | ---: | --- | --- |");
  for (const f of functions.filter((f) => f.name !== "(idle)").slice(0, Number(values.top))) {
    console.log(
      `| ${(f.micros / 1000).toFixed(0)} | ${(100 * f.micros / busy).toFixed(1)} | ` +
        `${f.name} | ${f.where} |`,
    );
  }
}
