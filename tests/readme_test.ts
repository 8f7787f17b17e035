/**
 * The README cannot drift: its tour runs as written in `bash -e -o pipefail` in an empty
 * directory, what it says each command prints is printed, and what it says about the binary's
 * permissions and the offline compile matches deno.json.
 */

import assert from "node:assert/strict";
import { dirname } from "node:path";
import { CLIENT_ENV } from "../src/cli/profile.ts";
import { PERMISSIONS, REPO } from "./integration/_server.ts";

const README = await Deno.readTextFile(new URL("../README.md", import.meta.url));
const TOUR_HOSTS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];
const TOUR_PORT = 2012;
const TOUR_TIMEOUT_MS = 120_000;

/** The text of the section under `## title`, up to the next `## ` heading. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  assert.notEqual(start, -1, `README.md has no "## ${title}" section`);
  const end = README.indexOf("\n## ", start + 1);
  return README.slice(start, end === -1 ? undefined : end);
}

/** The ```sh blocks of a piece of markdown, in order. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]);
}

/** A `# → …` line as a pattern over one output line; `…` is anything. */
function expected(line: string): RegExp {
  const text = line.replace(/^# → /, "");
  const parts = text.split("…").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(".*")}$`);
}

/** SIGTERMs what is left of a process group; whether anything was. */
function stopGroup(pgid: number): boolean {
  try {
    Deno.kill(-pgid, "SIGTERM");
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function denoDir(): Promise<string> {
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  return JSON.parse(new TextDecoder().decode(info.stdout)).denoDir;
}

function tourPortsFree(): string | null {
  for (const hostname of TOUR_HOSTS) {
    try {
      Deno.listen({ hostname, port: TOUR_PORT }).close();
    } catch (error) {
      return `${hostname}:${TOUR_PORT} is taken (${error}); the tour needs it`;
    }
  }
  return null;
}

Deno.test("the README tour runs as written in bash -e -o pipefail in an empty directory", async () => {
  const blocks = shellBlocks(section("A five-minute tour"));
  assert.ok(blocks.length >= 3, "the tour has its shell blocks");
  const taken = tourPortsFree();
  assert.equal(taken, null, taken ?? "");
  const dir = await Deno.makeTempDir({ prefix: "ripple-tour-" });
  try {
    await Deno.mkdir(`${dir}/home`);
    await Deno.mkdir(`${dir}/tour`);
    await Deno.writeTextFile(`${dir}/tour.sh`, blocks.join("\n"));
    // setsid puts the tour and everything it starts in a process group of their own, so a
    // tour that fails halfway cannot leave servers behind.
    const child = new Deno.Command("setsid", {
      args: ["bash", "-e", "-o", "pipefail", "-c", "source ../tour.sh"],
      cwd: `${dir}/tour`,
      clearEnv: true,
      env: {
        PATH: `${dirname(Deno.execPath())}:/usr/bin:/bin`,
        HOME: `${dir}/home`,
        DENO_DIR: await denoDir(),
        RIPPLE_SRC: REPO,
        NO_COLOR: "1",
        DENO_NO_UPDATE_CHECK: "1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const finished = child.output();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) =>
      timer = setTimeout(resolve, TOUR_TIMEOUT_MS, "late")
    );
    const first = await Promise.race([child.status, late]);
    clearTimeout(timer);
    const leftBehind = stopGroup(child.pid);
    const output = await finished;
    assert.notEqual(first, "late", `the tour did not end within ${TOUR_TIMEOUT_MS} ms`);
    assert.equal(leftBehind, false, "the tour left processes running");
    const decoder = new TextDecoder();
    const printed = decoder.decode(output.stdout) + decoder.decode(output.stderr);
    assert.equal(output.code, 0, `the tour failed:\n${printed}`);
    const lines = printed.split("\n");
    for (const line of blocks.join("\n").split("\n").filter((l) => l.startsWith("# → "))) {
      assert.ok(
        lines.some((out) => expected(line).test(out)),
        `"${line}" not printed in:\n${printed}`,
      );
    }
    // Nothing went to the home directory: the tour keeps its profiles beside its data.
    assert.deepEqual([...Deno.readDirSync(`${dir}/home`)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the README, deno.json and the tests give the binary the same scoped permissions", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const flags = (command: string) =>
    command.split(/\s+/).filter((word) => word.startsWith("--allow"));
  const env = `--allow-env=${CLIENT_ENV.join(",")}`;
  assert.deepEqual(flags(config.tasks.compile), PERMISSIONS);
  assert.ok(PERMISSIONS.includes(env));
  const tour = shellBlocks(section("A five-minute tour"))[0];
  assert.deepEqual(flags(tour.slice(0, tour.indexOf("main.ts"))), PERMISSIONS);
  const command = section("The `ripple` command");
  for (const function_ of shellBlocks(command)) {
    assert.deepEqual(flags(function_), PERMISSIONS);
  }
  for (const name of CLIENT_ENV) assert.match(command, new RegExp(`\`${name}\``));
});

Deno.test("the README says how to compile offline, and names the demo and the payments list", () => {
  const command = section("The `ripple` command");
  assert.match(command, /DENORT_BIN=\S+ deno task compile/);
  assert.match(command, /denort-x86_64-unknown-linux-gnu\.zip/);
  assert.match(README, /`deno task demo`/);
  assert.match(section("A five-minute tour"), /ripple client (--profile \w+ )?payments/);
  assert.match(section("Using an account"), /`payments` \(every payment of the account/);
});
