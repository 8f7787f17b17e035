/** Starting the wallet: a taken port stops the server at once, saying so; `--help` names the setting. */

import assert from "node:assert/strict";
import { ripple, startServer } from "../integration/harness.ts";

Deno.test("serve refuses to start when the wallet's port is taken, naming it", async () => {
  using squatter = Deno.listen({ hostname: "127.0.0.5", port: 0 });
  const http = `127.0.0.5:${squatter.addr.port}`;
  await assert.rejects(
    startServer({ host: "127.0.0.5", args: ["--http", http] }),
    new RegExp(`cannot serve http on ${http}: Address already in use`),
  );
});

Deno.test("serve --help tells how to serve the wallet", async () => {
  const { code, stdout } = await ripple(["serve", "--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /--http HOST:PORT +http: serve the web wallet on this loopback address/);
});
