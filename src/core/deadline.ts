/** Deadlines for reads and writes on sockets, as disposable abort signals. */

/**
 * An `AbortSignal` that aborts after `ms`; disposing it clears the timer, so nothing is
 * left running after the operation it guarded.
 *
 * @example
 * ```ts
 * import { Deadline, withSignal } from "./deadline.ts";
 * using deadline = new Deadline(1000);
 * await withSignal(Promise.resolve(1), deadline.signal); // 1
 * ```
 */
export class Deadline implements Disposable {
  readonly #controller = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout>;

  constructor(ms: number) {
    this.#timer = setTimeout(
      () => this.#controller.abort(new Deno.errors.TimedOut(`no progress within ${ms} ms`)),
      ms,
    );
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  [Symbol.dispose](): void {
    clearTimeout(this.#timer);
  }
}

/** One deadline of a {@linkcode Deadlines} set: its signal, and disposal to cancel it. */
export interface DeadlineEntry extends Disposable {
  readonly signal: AbortSignal;
}

/**
 * Deadlines of one length for many operations, kept by one timer at a time instead of one
 * each: entries expire in the order they were started, so the timer waits only for the
 * oldest one still running. A server starts one per connection; disposing the set clears
 * its timer and leaves the entries still running to their own disposal.
 *
 * @example
 * ```ts
 * import { Deadlines } from "./deadline.ts";
 * using deadlines = new Deadlines(1000);
 * using entry = deadlines.start();
 * entry.signal.aborted; // false
 * ```
 */
export class Deadlines implements Disposable {
  readonly #ms: number;
  /** Running entries, oldest first (a Set keeps insertion order). */
  readonly #running = new Set<RunningDeadline>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #disposed = false;

  constructor(ms: number) {
    this.#ms = ms;
  }

  /**
   * A deadline `ms` from now. Its signal aborts also when `linked` does, with its reason
   * (cheaper than `AbortSignal.any`, which tracks its sources with weak references).
   */
  start(linked?: AbortSignal): DeadlineEntry {
    const entry = new RunningDeadline(performance.now() + this.#ms, this.#running, linked);
    this.#running.add(entry);
    if (this.#timer === null && !this.#disposed) this.#arm(this.#ms);
    return entry;
  }

  [Symbol.dispose](): void {
    this.#disposed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, delay));
  }

  #expire(): void {
    this.#timer = null;
    const now = performance.now();
    for (const entry of this.#running) {
      if (entry.at > now) return this.#arm(entry.at - now);
      this.#running.delete(entry);
      entry.abort(new Deno.errors.TimedOut(`no progress within ${this.#ms} ms`));
    }
  }
}

class RunningDeadline implements DeadlineEntry {
  readonly at: number;
  readonly #controller = new AbortController();
  readonly #running: Set<RunningDeadline>;
  readonly #linked?: AbortSignal;
  readonly #onLinked = () => this.#controller.abort(this.#linked!.reason);

  constructor(at: number, running: Set<RunningDeadline>, linked?: AbortSignal) {
    this.at = at;
    this.#running = running;
    if (linked === undefined) return;
    this.#linked = linked;
    if (linked.aborted) this.#onLinked();
    else linked.addEventListener("abort", this.#onLinked, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  abort(reason: Error): void {
    this.#controller.abort(reason);
  }

  [Symbol.dispose](): void {
    this.#running.delete(this);
    this.#linked?.removeEventListener("abort", this.#onLinked);
  }
}

/**
 * Races `promise` against `signal`. The caller closes the resource the promise waits on
 * when this throws, which ends the abandoned operation.
 */
export function withSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

/** Writes every byte or throws when `signal` aborts. */
export async function writeAll(
  conn: Deno.Conn,
  bytes: Uint8Array,
  signal: AbortSignal,
): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await withSignal(conn.write(bytes.subarray(written)), signal);
  }
}

/**
 * Reads exactly `size` bytes, or fewer if the peer closes first; throws when `signal` aborts.
 * `onRead` is called after each read that brought bytes, before the next.
 */
export async function readUpTo(
  conn: Deno.Conn,
  size: number,
  signal: AbortSignal,
  onRead?: () => void,
): Promise<Uint8Array> {
  const buffer = new Uint8Array(size);
  let filled = 0;
  while (filled < size) {
    const n = await withSignal(conn.read(buffer.subarray(filled)), signal);
    if (n === null) break;
    filled += n;
    onRead?.();
  }
  return buffer.subarray(0, filled);
}
