import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
/** `ripple serve` with the only permissions a server needs. */
const SERVE = ["run", "--allow-net", "--allow-read", "--allow-write", MAIN, "serve"];

async function serve(datadir: string, ...flags: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...SERVE, "--datadir", datadir, ...flags],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

Deno.test("serve refuses to start, saying why, on each bad configuration", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string, string, string[], RegExp][] = [
      [
        "an unknown setting",
        "lock_timeout = 5\n",
        [],
        /ripple\.conf:1: unknown setting "lock_timeout"/,
      ],
      [
        "a value out of range",
        "max_depth = 0\n",
        [],
        /ripple\.conf:1: max_depth must be a whole number from 1/,
      ],
      [
        "a bad listen address in a flag",
        "",
        ["--listen", "127.0.0.1:70000"],
        /--listen: invalid port/,
      ],
      ["an unknown flag", "", ["--lock-timeout", "5"], /unknown option --lock-timeout/],
    ];
    for (const [name, file, flags, message] of cases) {
      await t.step(name, async () => {
        await Deno.writeTextFile(`${dir}/ripple.conf`, file);
        const { code, stderr } = await serve(dir, ...flags);
        assert.notEqual(code, 0);
        assert.match(stderr, message);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function freeAddress(): string {
  const listener = Deno.listen({ hostname: "127.0.0.5", port: 0 });
  listener.close();
  return `127.0.0.5:${listener.addr.port}`;
}

Deno.test("serve refuses an address it cannot bind, and a datadir another server holds", async () => {
  const dir = await Deno.makeTempDir();
  const listener = Deno.listen({ hostname: "127.0.0.5", port: 0 });
  const address = `127.0.0.5:${listener.addr.port}`;
  try {
    const busy = await serve(`${dir}/a`, "--listen", address);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, new RegExp(`cannot listen on ${address.replace(/\./g, "\\.")}`));

    await Deno.mkdir(`${dir}/b/ripple`, { recursive: true });
    using lock = await Deno.open(`${dir}/b/ripple/server.lock`, { write: true, create: true });
    await lock.lock(true);
    const held = await serve(`${dir}/b`, "--listen", freeAddress());
    assert.equal(held.code, 1);
    assert.match(held.stderr, /another ripple server is using/);
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve refuses a datadir it cannot write", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ripple`, "a file where the ripple directory should be");
    const { code, stderr } = await serve(dir, "--listen", freeAddress());
    assert.equal(code, 1);
    assert.match(stderr, /cannot write to .*ripple/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a server on an empty datadir says what to do next", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [...SERVE, "--listen", freeAddress()],
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // The hint follows the listening line at once; a server that never gives it is stopped.
    const timer = setTimeout(() => child.kill("SIGTERM"), 10_000);
    let text = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      if (/no-accounts.*\n/.test(text) || text.includes(" error ")) break;
    }
    clearTimeout(timer);
    try {
      child.kill("SIGTERM");
    } catch {
      // Already stopped by the timer.
    }
    await child.status;
    assert.match(
      text,
      /info no-accounts next="add one with: ripple account add NAME --datadir \.\/data/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
