/** Log lines for events that can come in floods: the first at once, then one line per interval with a count. */

import { type Clock, systemClock, type Timer } from "./clock.ts";
import type { Fields, Logger } from "./log.ts";

/** How a {@linkcode ThrottledLog} writes. */
export interface ThrottledLogOptions {
  logger: Logger;
  /** Lines of one event and key come at most this often (after the first); default 1000. */
  intervalMs?: number;
  /** Supplies the summary timer; tests pass a fake one. */
  clock?: Clock;
}

interface Pending {
  event: string;
  fields: Fields;
  /** Events since the last line written for this key. */
  count: number;
}

/**
 * Warn lines for events an attacker can cause at will (one per connection, say): the
 * first of each event and key is written at once with `count=1`; the ones after it
 * within the interval are counted, and a line with their `count` and the latest event's
 * fields is written when the interval ends. So no event goes unreported, and a flood
 * costs a line per key per interval, not a line per event. Disposing writes what is
 * still counted and stops the timer.
 *
 * @example
 * ```ts
 * import { Logger } from "./log.ts";
 * import { ThrottledLog } from "./throttled_log.ts";
 * const lines: string[] = [];
 * const logger = new Logger({ sink: (line) => lines.push(line), now: () => 0 });
 * {
 *   using log = new ThrottledLog({ logger });
 *   for (let i = 0; i < 3; i++) log.warn("connection-refused", "10.0.0.1", { source: "10.0.0.1" });
 * }
 * lines[0]; // "1970-01-01T00:00:00.000Z warn connection-refused source=10.0.0.1 count=1"
 * lines[1]; // "1970-01-01T00:00:00.000Z warn connection-refused source=10.0.0.1 count=2"
 * ```
 */
export class ThrottledLog implements Disposable {
  #logger: Logger;
  #intervalMs: number;
  #clock: Clock;
  #pending = new Map<string, Pending>();
  #timer: Timer | null = null;
  #closed = false;

  constructor(options: ThrottledLogOptions) {
    this.#logger = options.logger;
    this.#intervalMs = options.intervalMs ?? 1_000;
    this.#clock = options.clock ?? systemClock;
  }

  /** Reports one `event` about `key` (a source address, a neighbour) with `fields`. */
  warn(event: string, key: string, fields: Fields): void {
    const id = `${event}\n${key}`;
    const pending = this.#pending.get(id);
    if (pending !== undefined && !this.#closed) {
      pending.count++;
      pending.fields = fields;
      return;
    }
    this.#logger.warn(event, { ...fields, count: 1 });
    if (this.#closed) return;
    this.#pending.set(id, { event, fields, count: 0 });
    this.#timer ??= this.#clock.setTimer(this.#intervalMs, () => this.#flush());
  }

  [Symbol.dispose](): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#flush();
  }

  /** Writes the counted events; keys quiet for a whole interval are forgotten. */
  #flush(): void {
    this.#timer = null;
    for (const [id, pending] of this.#pending) {
      if (pending.count === 0) {
        this.#pending.delete(id);
        continue;
      }
      this.#logger.warn(pending.event, { ...pending.fields, count: pending.count });
      pending.count = 0;
    }
    if (this.#closed) this.#pending.clear();
    else if (this.#pending.size > 0) {
      this.#timer = this.#clock.setTimer(this.#intervalMs, () => this.#flush());
    }
  }
}
