import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const DEMO = fileURLToPath(new URL("../../src/demo/demo.ts", import.meta.url));

Deno.test("the demo pays across two hops and prints agreeing balances on every side", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", "--allow-write", "--allow-run", DEMO],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  const balance = (name: string, peer: string) => {
    const match = new RegExp(`^balance ${name} with ${peer}: (-?\\d+) \\(locked 0/0\\)$`, "m").exec(
      stdout,
    );
    assert.ok(match, `no balance line for ${name} with ${peer} in:\n${stdout}`);
    return Number(match[1]);
  };
  assert.equal(balance("alice", "bob"), -25);
  assert.equal(balance("bob", "alice"), 25);
  assert.equal(balance("bob", "carol"), -25);
  assert.equal(balance("carol", "bob"), 25);
  assert.match(stdout, /completed \(buyer, 25\)/);
  assert.match(stdout, /completed \(seller, 25\)/);
  assert.match(stdout, /removed the demo directory/);
});
