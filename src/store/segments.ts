/** The journal's directory: numbered segment files, the one being appended to, and their removal. */

import { type AppendFile, type FileSystem, isDiskFull } from "./fs.ts";
import {
  type ChangeSet,
  decodeJournal,
  JournalCorruptError,
  segmentName,
  segmentNumber,
} from "./journal.ts";

/** The disk is full: the change sets were not written, and may be tried again when space returns. */
export class DiskFullError extends Error {
  override name = "DiskFullError";

  constructor(options?: ErrorOptions) {
    super("the server's disk is full", options);
  }
}

/** What the segments on disk hold, in order. */
export interface JournalContents {
  records: ChangeSet[];
  /** The number of the last segment (0 if there is none). */
  last: number;
  /** The last segment's length without its torn tail, when it had one. */
  torn: { segment: number; bytes: number } | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The segments of a journal directory. One is open for appending; an append that fails
 * for lack of space is cut off again, so the segment never holds a half record that a later
 * record could follow.
 */
export class Segments {
  #fs: FileSystem;
  #dir: string;
  #file: AppendFile | null = null;
  #number = 0;
  #size = 0;

  constructor(fs: FileSystem, dir: string) {
    this.#fs = fs;
    this.#dir = dir;
  }

  /** The number of the segment appended to. */
  get current(): number {
    return this.#number;
  }

  /** Bytes in the segment appended to. */
  get size(): number {
    return this.#size;
  }

  /**
   * Reads every segment, in order. A damaged record ends the last segment (a torn write,
   * never acknowledged); anywhere else it is corruption: {@linkcode JournalCorruptError}.
   */
  async read(): Promise<JournalContents> {
    const numbers = ((await this.#fs.list(this.#dir)) ?? [])
      .map((entry) => segmentNumber(entry.name))
      .filter((n): n is number => n !== null)
      .sort((a, b) => a - b);
    const records: ChangeSet[] = [];
    let torn: JournalContents["torn"] = null;
    for (const [i, n] of numbers.entries()) {
      const text = decoder.decode((await this.#fs.read(this.#path(n))) ?? new Uint8Array());
      const journal = decodeJournal(text);
      if (journal.droppedBytes > 0 && i < numbers.length - 1) {
        throw new JournalCorruptError(
          `journal segment ${segmentName(n)} is damaged before its end`,
        );
      }
      if (journal.droppedBytes > 0) {
        const kept = text.slice(0, text.length - journal.droppedBytes);
        torn = { segment: n, bytes: encoder.encode(kept).length };
      }
      // One by one: a full segment holds tens of thousands, too many to spread as arguments.
      for (const record of journal.records) records.push(record);
    }
    return { records, last: numbers.at(-1) ?? 0, torn };
  }

  /** Makes segment `n` the one appended to, its directory entry durable; the old one is closed. */
  async open(n: number): Promise<void> {
    const file = await this.#fs.openAppend(this.#path(n));
    try {
      await this.#fs.syncDir(this.#dir);
    } catch (error) {
      file.close();
      throw error;
    }
    this.#file?.close();
    this.#file = file;
    this.#number = n;
    this.#size = 0;
  }

  /**
   * Appends `bytes` and fsyncs them. Throws {@linkcode DiskFullError} if the disk had no room,
   * after cutting off whatever part was written; any other error means the segment can no
   * longer be trusted (an fsync error is never retried: the kernel may have dropped the data).
   */
  async append(bytes: Uint8Array): Promise<void> {
    const file = this.#file!;
    try {
      await file.append(bytes);
    } catch (error) {
      if (!isDiskFull(error)) throw error;
      await file.truncate(this.#size);
      throw new DiskFullError({ cause: error });
    }
    await file.sync();
    this.#size += bytes.length;
  }

  /** Cuts segment `n` to `bytes`, durably, dropping a torn tail so that more segments may follow. */
  async cut(n: number, bytes: number): Promise<void> {
    const file = await this.#fs.openAppend(this.#path(n));
    try {
      await file.truncate(bytes);
      await file.sync();
    } finally {
      file.close();
    }
  }

  /** Removes every segment numbered up to `n`, durably. */
  async removeUpTo(n: number): Promise<void> {
    for (const entry of (await this.#fs.list(this.#dir)) ?? []) {
      const number = segmentNumber(entry.name);
      if (number !== null && number <= n) await this.#fs.remove(`${this.#dir}/${entry.name}`);
    }
    await this.#fs.syncDir(this.#dir);
  }

  /** Closes the segment appended to. */
  close(): void {
    this.#file?.close();
    this.#file = null;
  }

  #path(n: number): string {
    return `${this.#dir}/${segmentName(n)}`;
  }
}
