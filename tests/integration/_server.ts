/** Real `ripple serve` processes on loopback addresses, and `ripple` CLI runs. */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { CLIENT_ENV } from "../../src/cli/profile.ts";
import { waitFor } from "./_wait.ts";

/** main.ts and the repository it runs in, for child processes. */
export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
export const REPO = fileURLToPath(new URL("../..", import.meta.url));
/** The scoped permissions the design card gives the binary; the tests run it with no more. */
export const PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  `--allow-env=${CLIENT_ENV.join(",")}`,
];
/**
 * V8 flags the server runs with, as `deno task start` and the compiled binary do: a heap
 * that grows less under a server's allocation rate (docs/benchmarks.md, peak RSS).
 */
export const V8_FLAGS = ["--v8-flags=--optimize-for-size"];
/** The environment of every child `ripple` process: no update check, plain output. */
export const CHILD_ENV = { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

/** What `ripple` printed and how it exited. */
export interface RippleResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where a {@linkcode ripple} run happens and what it reads. */
export interface RippleRunOptions {
  /** The working directory; the repository by default. */
  cwd?: string;
  /** More environment (e.g. `XDG_CONFIG_HOME` for the client's profiles). */
  env?: Record<string, string>;
  /** Text on standard input; none (closed) by default. */
  stdin?: string;
}

/**
 * Runs `main.ts` with `args` as a subprocess, with the binary's scoped permissions.
 *
 * @example
 * ```ts ignore
 * const { code, stdout } = await ripple(["--help"]);
 * ```
 */
export async function ripple(
  args: string[],
  options: RippleRunOptions = {},
): Promise<RippleResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, MAIN, ...args],
    cwd: options.cwd ?? REPO,
    env: { ...CHILD_ENV, ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Where and how {@linkcode startServer} runs a server. */
export interface ServerOptions {
  /** Loopback address to listen on, e.g. `127.0.0.2`. */
  host: string;
  /** The datadir; a fresh temporary one (removed on dispose) when left out. */
  datadir?: string;
  /** The port; a free one on `host` when left out. */
  port?: number;
  /** Info unless set; no higher, as the harness waits for the `listening` line. */
  logLevel?: "debug" | "info";
  /** What the server calls itself (`--address`), when peers reach it through something else. */
  publicAddress?: string;
  /** More `ripple serve` flags, e.g. time-outs. */
  args?: string[];
  /** Serve the web wallet too (`--http`), on a free port of `host`. */
  http?: boolean;
  /** Runs the server under this open-files limit (`ulimit -n`), for tests of running out. */
  openFilesLimit?: number;
}

/** A running (or stopped) `ripple serve` process. */
export interface RippleServer extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  /** What the server calls itself (`--address`): `host:port`, unless a public address was given. */
  readonly address: string;
  /** `host:port`: where the server listens, and where its clients connect. */
  readonly listenAddress: string;
  readonly datadir: string;
  /** `http://host:port/`, the web wallet's page, when the server serves it. */
  readonly walletUrl?: string;
  readonly running: boolean;
  /** Every log line the server wrote on stderr, across restarts. */
  logs(): string[];
  /** SIGTERM, wait for the exit, and check it was clean (status 0). */
  stop(): Promise<void>;
  /** SIGKILL, wait for the exit: a crash. */
  kill(): Promise<void>;
  /** Sends `signal` (e.g. SIGSTOP, SIGCONT) and returns at once. */
  signal(signal: Deno.Signal): void;
  /** Waits up to `timeoutMs` for the process to end by itself; its exit status. */
  exited(timeoutMs: number): Promise<Deno.CommandStatus>;
  /** Starts the stopped server again, on the same datadir and port. */
  start(): Promise<void>;
  /** {@linkcode RippleServer.stop}, then {@linkcode RippleServer.start}. */
  restart(): Promise<void>;
}

/**
 * Spawns `ripple serve` and waits until it accepts TCP connections.
 *
 * @example
 * ```ts ignore
 * await using server = await startServer({ host: "127.0.0.2" });
 * server.address; // "127.0.0.2:41234"
 * ```
 */
export async function startServer(options: ServerOptions): Promise<RippleServer> {
  const port = options.port ?? freePort(options.host);
  const owned = options.datadir === undefined;
  const datadir = options.datadir ?? await Deno.makeTempDir({ prefix: "ripple-integ-" });
  const server = new ServerProcess(options.host, port, datadir, owned, options);
  try {
    await server.start();
  } catch (error) {
    await server[Symbol.asyncDispose]().catch(() => {});
    throw error;
  }
  return server;
}

/** Servers started together and disposed together. */
export interface ServerGroup extends AsyncDisposable {
  readonly servers: RippleServer[];
}

/**
 * Starts one server per host, in parallel, each with its own temporary datadir.
 *
 * @example
 * ```ts ignore
 * await using group = await startServers(["127.0.0.2", "127.0.0.3"]);
 * const [a, b] = group.servers;
 * ```
 */
export async function startServers(
  hosts: string[],
  options: Pick<ServerOptions, "logLevel" | "args" | "http"> = {},
): Promise<ServerGroup> {
  const started = await Promise.allSettled(
    hosts.map((host) => startServer({ ...options, host })),
  );
  const servers = started.flatMap((result) => result.status === "fulfilled" ? [result.value] : []);
  const dispose = async () => {
    const stopped = await Promise.allSettled(servers.map((s) => s[Symbol.asyncDispose]()));
    const failed = stopped.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
  };
  const failure = started.find((result) => result.status === "rejected");
  if (failure) {
    await dispose().catch(() => {});
    throw failure.reason;
  }
  return { servers, [Symbol.asyncDispose]: dispose };
}

class ServerProcess implements RippleServer {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly listenAddress: string;
  readonly datadir: string;
  readonly walletUrl?: string;
  #owned: boolean;
  #logLevel: string;
  #args: string[];
  #openFilesLimit?: number;
  #lines: string[] = [];
  #child: Deno.ChildProcess | null = null;
  #exited: Promise<Deno.CommandStatus> | null = null;

  constructor(host: string, port: number, datadir: string, owned: boolean, options: ServerOptions) {
    this.host = host;
    this.port = port;
    this.listenAddress = `${host}:${port}`;
    this.address = options.publicAddress ?? this.listenAddress;
    this.datadir = datadir;
    this.#owned = owned;
    this.#logLevel = options.logLevel ?? "info";
    this.#args = options.args ?? [];
    if (options.http) {
      const httpPort = freePort(host);
      this.walletUrl = `http://${host}:${httpPort}/`;
      this.#args = ["--http", `${host}:${httpPort}`, ...this.#args];
    }
    this.#openFilesLimit = options.openFilesLimit;
  }

  get running(): boolean {
    return this.#child !== null;
  }

  logs(): string[] {
    return [...this.#lines];
  }

  async start(): Promise<void> {
    assert.equal(this.#child, null, `the server at ${this.address} is already running`);
    const args = [
      "run",
      ...V8_FLAGS,
      ...PERMISSIONS,
      MAIN,
      "serve",
      ...["--datadir", this.datadir, "--listen", this.listenAddress, "--address", this.address],
      ...["--log-level", this.#logLevel],
      ...this.#args,
    ];
    // The shell sets the limit and then becomes the server (exec), keeping its pid.
    const [command, commandArgs] = this.#openFilesLimit === undefined
      ? [Deno.execPath(), args]
      : ["sh", [
        "-c",
        `ulimit -n ${this.#openFilesLimit} && exec "$0" "$@"`,
        Deno.execPath(),
        ...args,
      ]];
    const child = new Deno.Command(command, {
      args: commandArgs,
      cwd: REPO,
      env: CHILD_ENV,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    const since = this.#lines.length;
    const collected = this.#collect(child.stderr);
    // The status resolves only after stderr is drained, so no stream outlives the process.
    this.#exited = child.status.then(async (status) => (await collected, status));
    let exited = false;
    this.#exited.finally(() => exited = true);
    try {
      // A connection alone could reach whatever else holds the port; the log line is ours.
      await waitFor(
        async () => {
          if (exited) throw new Error("the process exited");
          return this.#lines.slice(since).some((line) => line.includes(" info listening ")) &&
            await canConnect(this.host, this.port);
        },
        READY_TIMEOUT_MS,
        `a connection to ${this.address}`,
      );
    } catch (error) {
      if (exited) this.#child = null;
      else await this.kill();
      throw new Error(
        `ripple serve on ${this.address} did not start (${error}):\n` +
          this.#lines.join("\n"),
      );
    }
  }

  async stop(): Promise<void> {
    const status = await this.#end("SIGTERM");
    assert.equal(
      status.code,
      0,
      `ripple serve on ${this.address} exited with ${status.code} (signal ${status.signal}):\n` +
        this.#lines.slice(-20).join("\n"),
    );
  }

  async kill(): Promise<void> {
    await this.#end("SIGKILL");
  }

  signal(signal: Deno.Signal): void {
    assert.ok(this.#child !== null, `the server at ${this.address} is not running`);
    this.#child.kill(signal);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async exited(timeoutMs: number): Promise<Deno.CommandStatus> {
    assert.ok(this.#exited !== null, `the server at ${this.address} is stopped`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => timer = setTimeout(resolve, timeoutMs, null));
    const status = await Promise.race([this.#exited, late]);
    clearTimeout(timer);
    if (status === null) {
      throw new Error(`ripple serve on ${this.address} still runs after ${timeoutMs} ms`);
    }
    this.#child = null;
    this.#exited = null;
    return status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      if (this.#child !== null) await this.stop();
    } finally {
      if (this.#owned) await Deno.remove(this.datadir, { recursive: true });
    }
  }

  /** Signals the process and waits for it; SIGKILL if SIGTERM is not obeyed in time. */
  async #end(signal: Deno.Signal): Promise<Deno.CommandStatus> {
    const child = this.#child;
    assert.ok(child !== null && this.#exited !== null, `the server at ${this.address} is stopped`);
    child.kill(signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => timer = setTimeout(resolve, STOP_TIMEOUT_MS, null));
    const status = await Promise.race([this.#exited, late]);
    clearTimeout(timer);
    if (status === null) child.kill("SIGKILL");
    const final = await this.#exited;
    this.#child = null;
    this.#exited = null;
    if (status === null) throw new Error(`ripple serve on ${this.address} ignored ${signal}`);
    return final;
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    let partial = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop()!;
      this.#lines.push(...lines);
    }
    if (partial !== "") this.#lines.push(partial);
  }
}

/**
 * A port nobody listens on at `host` right now: bind port 0 there, read it, close.
 *
 * @example
 * ```ts ignore
 * const port = freePort("127.0.0.3");
 * ```
 */
export function freePort(host: string): number {
  using listener = Deno.listen({ hostname: host, port: 0 });
  return listener.addr.port;
}

async function canConnect(hostname: string, port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname, port });
    conn.close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) return false;
    throw error;
  }
}
