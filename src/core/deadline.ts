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
