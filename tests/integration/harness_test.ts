/** The harness itself: a server that cannot start is reported as such, with its own words. */

import assert from "node:assert/strict";
import { startServer } from "./harness.ts";

Deno.test("startServer fails with the server's own error when its port is taken", async () => {
  // Something else answers on the port, so a successful connect alone proves nothing.
  using squatter = Deno.listen({ hostname: "127.0.0.4", port: 0 });
  await assert.rejects(
    startServer({ host: "127.0.0.4", port: squatter.addr.port }),
    /did not start[\s\S]*cannot listen on 127\.0\.0\.4:\d+: Address already in use/,
  );
});
