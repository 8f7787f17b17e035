/** The one logger: a line per event, as `key=value` text or as JSON. */

/** Severity of a log line. */
export type Level = "debug" | "info" | "warn" | "error";

/** Values a log line can carry. */
export type Fields = Record<string, string | number | bigint | boolean | undefined>;

/**
 * A line's fields, or a function giving them: a function runs only if the line is written,
 * so a line that is off (debug, usually) costs nothing to build.
 */
export type LazyFields = Fields | (() => Fields);

/** Writes one finished line somewhere. */
export type Sink = (line: string, level: Level) => void;

const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Lines held back until what they tell of is durable; see {@linkcode Logger.deferred}. */
export interface DeferredLog {
  readonly logger: Logger;
  /** Writes the lines held so far. */
  flush(): void;
  /** Forgets the lines held so far: what they told of did not happen. */
  discard(): void;
}

/** How a {@linkcode Logger} writes its lines. */
export interface LoggerOptions {
  format?: "text" | "json";
  level?: Level;
  sink?: Sink;
  /** Supplies the time of each line; the simulator passes its fake clock. */
  now?: () => number;
}

const encoder = new TextEncoder();
const stderrSink: Sink = (line) => Deno.stderr.writeSync(encoder.encode(line + "\n"));

/**
 * Logs events with fields: `2026-11-24T10:00:00.000Z info trustline-synced account=alice`.
 *
 * @example
 * ```ts
 * import { Logger } from "./log.ts";
 * const lines: string[] = [];
 * const log = new Logger({ sink: (line) => lines.push(line), now: () => 0 });
 * log.info("started", { listen: "127.0.0.1:2012" });
 * lines[0]; // "1970-01-01T00:00:00.000Z info started listen=127.0.0.1:2012"
 * ```
 */
export class Logger {
  #options: LoggerOptions;
  #format: "text" | "json";
  #level: number;
  #sink: Sink;
  #now: () => number;
  #context: Fields;
  /** Fields of {@linkcode with}, merged into the context only when a line is written. */
  #added: Fields | undefined;

  constructor(options: LoggerOptions = {}, context: Fields = {}, added?: Fields) {
    this.#options = options;
    this.#format = options.format ?? "text";
    this.#level = RANK[options.level ?? "info"];
    this.#sink = options.sink ?? stderrSink;
    this.#now = options.now ?? Date.now;
    this.#context = context;
    this.#added = added;
  }

  /** A logger that adds `fields` to every line (cheap: one is made per datagram). */
  with(fields: Fields): Logger {
    const context = this.#added === undefined
      ? this.#context
      : { ...this.#context, ...this.#added };
    return new Logger(this.#options, context, fields);
  }

  /** A logger like this one whose lines wait for `flush`, or go with `discard`. */
  deferred(): DeferredLog {
    const held: [string, Level][] = [];
    const logger = new Logger(
      {
        ...this.#options,
        sink: (line, level) => held.push([line, level]),
      },
      this.#context,
      this.#added,
    );
    return {
      logger,
      flush: () => {
        for (const [line, level] of held.splice(0)) this.#sink(line, level);
      },
      discard: () => void held.splice(0),
    };
  }

  debug(event: string, fields?: LazyFields): void {
    this.#write("debug", event, fields);
  }
  info(event: string, fields?: LazyFields): void {
    this.#write("info", event, fields);
  }
  warn(event: string, fields?: LazyFields): void {
    this.#write("warn", event, fields);
  }
  error(event: string, fields?: LazyFields): void {
    this.#write("error", event, fields);
  }

  #write(level: Level, event: string, fields: LazyFields = {}): void {
    if (RANK[level] < this.#level) return;
    const time = new Date(this.#now()).toISOString();
    const all = {
      ...this.#context,
      ...this.#added,
      ...(typeof fields === "function" ? fields() : fields),
    };
    this.#sink(
      this.#format === "json" ? json(time, level, event, all) : text(time, level, event, all),
      level,
    );
  }
}

function text(time: string, level: Level, event: string, fields: Fields): string {
  let line = `${time} ${level} ${event}`;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const shown = String(value);
    line += ` ${key}=${/^[^\s"=]+$/.test(shown) ? shown : JSON.stringify(shown)}`;
  }
  return line;
}

function json(time: string, level: Level, event: string, fields: Fields): string {
  const record: Record<string, unknown> = { time, level, event };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) record[key] = typeof value === "bigint" ? value.toString() : value;
  }
  return JSON.stringify(record);
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger: Logger = new Logger({ sink: () => {} });
