/**
 * `deno task demo`: three servers on 127.0.0.2–127.0.0.4 in a temporary directory; alice
 * pays carol through bob. Every step is printed as the command a user would type.
 */

import { fileURLToPath } from "node:url";
import { CLIENT_ENV } from "../cli/profile.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  `--allow-env=${CLIENT_ENV.join(",")}`,
];
const decoder = new TextDecoder();

interface Server {
  name: string;
  process: Deno.ChildProcess;
  address: string;
}

/** Runs the demo; resolves once everything it started is stopped and removed. */
export async function runDemo(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ripple-demo-" });
  const servers: Server[] = [];
  try {
    say(`A ripple demo in ${dir}: three servers; alice pays carol 25 through bob.`);
    const hosts = { alice: "127.0.0.2", bob: "127.0.0.3", carol: "127.0.0.4" };
    const addresses: Record<string, string> = {};
    for (const [name, host] of Object.entries(hosts)) addresses[name] = `${host}:${freePort(host)}`;
    const ref = (name: string) => `${name}@${addresses[name]}`;

    say("1. Accounts, one per server; each prints its client key, kept in a client profile.");
    for (const name of Object.keys(hosts)) {
      const key = await ripple(dir, ["account", "add", name, "--datadir", name]);
      await ripple(dir, ["profile", "add", ref(name)], key);
    }

    say("2. Peers: one side generates the shared key, the other adds it.");
    for (const [a, b] of [["alice", "bob"], ["bob", "carol"]]) {
      const key = lastLine(
        await ripple(dir, ["peer", "add", a, ref(b), "--generate", "--datadir", a]),
      );
      await ripple(dir, ["peer", "add", b, ref(a), "--key", key, "--datadir", b]);
    }

    say("3. Three servers.");
    for (const name of Object.keys(hosts)) {
      servers.push(await startServer(dir, name, addresses[name]));
    }

    say("4. Credit: bob lets alice owe him 100, carol lets bob owe her 100.");
    const client = (name: string, ...args: string[]) =>
      ripple(dir, ["client", "--profile", name, ...args]);
    await client("bob", "set-trustline", ref("alice"), "100");
    await client("carol", "set-trustline", ref("bob"), "100");
    for (const [creditor, debtor] of [["bob", "alice"], ["carol", "bob"]]) {
      await client(creditor, "get-trustline-out", ref(debtor), "--wait");
      await client(debtor, "get-trustline-in", ref(creditor));
    }

    say(
      "5. carol expects 25 from alice and gets a payment id; alice pays under it, demanding " +
        "carol's receipt.",
    );
    const id = lastLine(await client("carol", "receive", ref("alice"), "25"));
    await client("alice", "pay", ref("carol"), "25", "--id", id, "--receipt", "--wait");
    await client("carol", "payment", id, "--wait");

    say("6. Balances on every side (positive: the peer owes us).");
    const balances: string[] = [];
    for (
      const [name, peer] of [["alice", "bob"], ["bob", "alice"], ["bob", "carol"], ["carol", "bob"]]
    ) {
      const books = JSON.parse(await client(name, "balance", ref(peer), "--json", "--quiet"));
      balances.push(
        `balance ${name} with ${peer}: ${books.balance} (locked ${books.lockedIn}/${books.lockedOut})`,
      );
    }
    say(balances.join("\n"));
  } finally {
    for (const server of servers) {
      server.process.kill("SIGTERM");
      await server.process.status;
    }
    await Deno.remove(dir, { recursive: true });
    say("Stopped the servers and removed the demo directory.");
  }
}

function say(text: string): void {
  console.log(`\n${text}`);
}

/**
 * Runs `ripple ARGS` in `dir` with `stdin` as its input, printing the command and its output;
 * throws if it fails. Client profiles go in `dir` too, not in the user's own.
 */
async function ripple(dir: string, args: string[], stdin?: string): Promise<string> {
  const quiet = args.includes("--quiet");
  const shown = args.filter((arg) => arg !== "--quiet");
  if (!quiet) console.log(`$ ripple ${shown.join(" ")}`);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, MAIN, ...shown],
    cwd: dir,
    env: { XDG_CONFIG_HOME: `${dir}/config` },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin + "\n"));
    await writer.close();
  }
  const output = await child.output();
  const stdout = decoder.decode(output.stdout).trimEnd();
  const stderr = decoder.decode(output.stderr).trimEnd();
  if (!output.success) throw new Error(`ripple ${shown[0]} failed: ${stderr}`);
  if (!quiet && stderr) console.log(stderr);
  if (!quiet && stdout) console.log(stdout);
  return stdout;
}

async function startServer(dir: string, name: string, address: string): Promise<Server> {
  console.log(`$ ripple serve --datadir ${name} --listen ${address} --log-level warn &`);
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...PERMISSIONS,
      MAIN,
      "serve",
      "--datadir",
      name,
      "--listen",
      address,
      "--log-level",
      "warn",
    ],
    cwd: dir,
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const [hostname, port] = address.split(":");
  await until(async () => {
    try {
      (await Deno.connect({ hostname, port: Number(port) })).close();
      return true;
    } catch {
      return false;
    }
  });
  return { name, process, address };
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1)!.trim();
}

/** A port nobody listens on at `host` now. */
function freePort(host: string): number {
  const listener = Deno.listen({ hostname: host, port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("the demo timed out waiting for the servers");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

if (import.meta.main) await runDemo();
