/** The page's script is generated from src/web: the committed bundle must be what `deno task bundle` makes now. */

import assert from "node:assert/strict";
import { CHILD_ENV, REPO } from "../integration/harness.ts";

const BUNDLE = "src/http/assets/wallet.js";

/** The `bundle` task's command from deno.json, its output sent to `output` instead. */
async function bundleArgs(output: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${REPO}deno.json`));
  const [deno, ...args] = (config.tasks.bundle as string).split(/\s+/);
  assert.equal(deno, "deno");
  const at = args.indexOf("--output");
  assert.equal(args[at + 1], BUNDLE, "the bundle task writes the file the server serves");
  args[at + 1] = output;
  return args;
}

Deno.test("the committed wallet.js is the bundle of src/web as it is now", async () => {
  const output = await Deno.makeTempFile({ prefix: "ripple-wallet-", suffix: ".js" });
  try {
    const result = await new Deno.Command(Deno.execPath(), {
      args: await bundleArgs(output),
      cwd: REPO,
      env: CHILD_ENV,
      stdin: "null",
    }).output();
    assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
    const fresh = await Deno.readTextFile(output);
    const committed = await Deno.readTextFile(`${REPO}${BUNDLE}`);
    assert.ok(
      fresh === committed,
      `${BUNDLE} is stale: run "deno task bundle" and commit the result`,
    );
  } finally {
    await Deno.remove(output);
  }
});

Deno.test("the page's script uses no Deno API and loads nothing from elsewhere", async () => {
  const script = await Deno.readTextFile(`${REPO}${BUNDLE}`);
  for (
    const [what, pattern] of [
      ["a Deno API", /\bDeno\./],
      ["an import", /(?<![#.\w])import\s*\(|^\s*import\b|^\s*export\b[^\n]*\bfrom\s*["']/m],
      ["an address elsewhere", /https?:\/\//],
    ] as const
  ) {
    const found = script.match(pattern);
    assert.ok(found === null, `${BUNDLE} has ${what}: ${found?.[0]}`);
  }
});
