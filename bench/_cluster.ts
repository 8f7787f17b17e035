/**
 * The child processes of the load benchmark: `ripple serve` servers and a trivial TCP echo
 * listener, each on its own loopback address, all stopped and their temp dirs removed together.
 */

import { fileURLToPath } from "node:url";
import {
  CHILD_ENV,
  freePort,
  MAIN,
  PERMISSIONS,
  REPO,
  V8_FLAGS,
} from "../tests/integration/_server.ts";
import { sleep } from "../tests/integration/_wait.ts";

const ECHO = fileURLToPath(new URL("./_echo_server.ts", import.meta.url));
const READY_TIMEOUT_MS = 20_000;
/** A server stopping writes every file its journal changed, durably: give it time. */
const STOP_TIMEOUT_MS = 60_000;

/** A child process started by a {@linkcode Cluster}. */
export interface ChildServer {
  readonly name: string;
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  /** `host:port`: where it listens, and (for ripple servers) how peers name it. */
  readonly address: string;
  /** Its stderr, kept in a file so a full pipe never blocks it. */
  readonly logFile: string;
  /** Peak resident set size (VmHWM) so far, in KiB. */
  peakRssKiB(): Promise<number>;
  /** SIGTERM, then SIGKILL if it has not exited in time; resolves with the exit status. */
  stop(): Promise<Deno.CommandStatus>;
}

/** A ripple server of a {@linkcode Cluster}. */
export interface RippleServer extends ChildServer {
  readonly datadir: string;
}

/** Options of {@linkcode Cluster.startServer}. */
export interface StartServerOptions {
  host: string;
  /** The port; take it with {@linkcode freePort} before writing accounts that name it. */
  port: number;
  datadir: string;
  /** A directory for a `--cpu-prof` profile of the server, written when it exits. */
  profileDir?: string;
  /** More `ripple serve` flags (settings). */
  args?: string[];
}

/**
 * Owns every child process and temp dir of a run. Disposing it stops the children and
 * removes the dirs, whatever happened before.
 *
 * @example
 * ```ts ignore
 * await using cluster = await Cluster.create();
 * const datadir = await cluster.tempDir("a");
 * const server = await cluster.startServer({ host: "127.0.0.21", port: freePort("127.0.0.21"), datadir });
 * ```
 */
export class Cluster implements AsyncDisposable {
  readonly root: string;
  #children: ChildServer[] = [];

  private constructor(root: string) {
    this.root = root;
  }

  /** Makes the run's temp dir (datadirs, logs, durable-write probes live under it). */
  static async create(): Promise<Cluster> {
    return new Cluster(await Deno.makeTempDir({ prefix: "ripple-loadbench-" }));
  }

  /** A new directory under the run's temp dir. */
  async tempDir(name: string): Promise<string> {
    const path = `${this.root}/${name}`;
    await Deno.mkdir(path, { recursive: true });
    return path;
  }

  /** Starts `ripple serve` on `datadir` and waits until it logs `listening` and accepts. */
  async startServer(options: StartServerOptions): Promise<RippleServer> {
    const address = `${options.host}:${options.port}`;
    const profile = options.profileDir === undefined ? [] : [
      "--cpu-prof",
      "--cpu-prof-dir",
      options.profileDir,
      "--cpu-prof-name",
      `server-${options.host}-${options.port}.cpuprofile`,
    ];
    const child = await this.#spawn(`ripple serve ${address}`, options.host, options.port, [
      "run",
      ...V8_FLAGS,
      ...profile,
      ...PERMISSIONS,
      MAIN,
      "serve",
      ...["--datadir", options.datadir, "--listen", address, "--address", address],
      ...options.args ?? [],
    ], " info listening ");
    return { ...child, datadir: options.datadir };
  }

  /** Starts the echo listener in its own process, so it costs what a server process costs. */
  startEcho(host: string): Promise<ChildServer> {
    const port = freePort(host);
    return this.#spawn(`echo ${host}:${port}`, host, port, [
      "run",
      "--allow-net",
      ECHO,
      host,
      String(port),
    ], "listening");
  }

  /** Stops every child still running, then removes the run's temp dir. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await Promise.allSettled(this.#children.map((child) => child.stop()));
    } finally {
      await Deno.remove(this.root, { recursive: true });
    }
  }

  async #spawn(
    name: string,
    host: string,
    port: number,
    args: string[],
    readyText: string,
  ): Promise<ChildServer> {
    const logFile = `${this.root}/${name.replaceAll(/[^a-z0-9.]+/g, "-")}.log`;
    const log = await Deno.open(logFile, { write: true, create: true, truncate: true });
    const child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: REPO,
      env: CHILD_ENV,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const drained = copyInto(child.stderr, log);
    // The status resolves only after stderr is drained, so no stream outlives the process.
    const exited = child.status.then(async (status) => (await drained, status));
    let status: Deno.CommandStatus | null = null;
    exited.then((s) => status = s);
    const handle: ChildServer = {
      name,
      pid: child.pid,
      host,
      port,
      address: `${host}:${port}`,
      logFile,
      peakRssKiB: () => peakRssKiB(child.pid),
      async stop() {
        if (status !== null) return status;
        child.kill("SIGTERM");
        const late = sleep(STOP_TIMEOUT_MS).then(() => null);
        if ((await Promise.race([exited, late])) === null) child.kill("SIGKILL");
        return await exited;
      },
    };
    this.#children.push(handle);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (status !== null) throw new Error(`${name} exited:\n${await tail(logFile)}`);
      if ((await Deno.readTextFile(logFile)).includes(readyText) && await canConnect(host, port)) {
        return handle;
      }
      if (Date.now() > deadline) {
        throw new Error(`${name} did not start in ${READY_TIMEOUT_MS} ms:\n${await tail(logFile)}`);
      }
      await sleep(25);
    }
  }
}

/**
 * VmHWM of a process from `/proc/PID/status`, in KiB (Linux only). Deno lets only
 * `--allow-all` read `/proc/PID`, so `cat` reads it, under `--allow-run`.
 *
 * @example
 * ```ts ignore
 * await peakRssKiB(Deno.pid);
 * ```
 */
export async function peakRssKiB(pid: number): Promise<number> {
  const status = await run("cat", [`/proc/${pid}/status`]);
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]);
}

let ticksPerSecond: number | undefined;

/**
 * CPU time (user + system) a process has used so far, in seconds, from `/proc/PID/stat`
 * (read by `cat`, as {@linkcode peakRssKiB} explains).
 */
export async function cpuSeconds(pid: number): Promise<number> {
  ticksPerSecond ??= Number(await run("getconf", ["CLK_TCK"]));
  const stat = await run("cat", [`/proc/${pid}/stat`]);
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/**
 * CPU time the whole machine has spent busy (all cores, every process and the kernel),
 * in seconds, from `/proc/stat`: to tell when something else ran during a measurement.
 */
export async function machineBusySeconds(): Promise<number> {
  ticksPerSecond ??= Number(await run("getconf", ["CLK_TCK"]));
  const [, user, nice, system, , , irq, softirq, steal] = (await run("cat", ["/proc/stat"]))
    .split("\n")[0].split(/ +/).map(Number);
  return (user + nice + system + irq + softirq + steal) / ticksPerSecond;
}

async function run(program: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(program, { args, stderr: "null" }).output();
  if (!output.success) throw new Error(`${program} ${args.join(" ")} failed`);
  return new TextDecoder().decode(output.stdout).trim();
}

/** The last lines of a log file, for error messages. */
export async function tail(path: string, lines = 20): Promise<string> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Copies a stream into a file as it arrives (a file's `writable` may hold chunks back). */
async function copyInto(stream: ReadableStream<Uint8Array>, file: Deno.FsFile): Promise<void> {
  try {
    for await (const chunk of stream) {
      let written = 0;
      while (written < chunk.length) written += await file.write(chunk.subarray(written));
    }
  } catch {
    // The process is gone; what it wrote is in the file.
  } finally {
    file.close();
  }
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
