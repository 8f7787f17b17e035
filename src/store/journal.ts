/** The redo journal: one text line per committed change set, each with a CRC-32, so a torn tail is detected. */

/** A committed change set: file path (relative to the store root) → new text, or null to remove. */
export type ChangeSet = Map<string, string | null>;

/** The journal holds a record that is damaged before its end: the datadir needs an operator. */
export class JournalCorruptError extends Error {
  override name = "JournalCorruptError";
}

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 (IEEE) of a string's UTF-16 code units; journal text is ASCII.
 *
 * @example
 * ```ts
 * import { crc32 } from "./journal.ts";
 * crc32("123456789").toString(16); // "cbf43926"
 * ```
 */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) {
    crc = TABLE[(crc ^ text.charCodeAt(i)) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * Encodes a change set as one line: `crc32-hex json\n`.
 *
 * @example
 * ```ts
 * import { decodeJournal, encodeRecord } from "./journal.ts";
 * const line = encodeRecord(new Map([["accounts/alice/counter.txt", "5\n"]]));
 * decodeJournal(line).records.length; // 1
 * ```
 */
export function encodeRecord(changes: ChangeSet): string {
  const json = JSON.stringify([...changes]);
  return `${crc32(json).toString(16).padStart(8, "0")} ${json}\n`;
}

/** What a journal segment held. */
export interface DecodedJournal {
  records: ChangeSet[];
  /** Bytes after the last good record (a torn write), dropped. */
  droppedBytes: number;
}

/**
 * Decodes a segment. Records are applied in order up to the first damaged one; whatever
 * follows it was never acknowledged (it was not fsynced) and is dropped.
 */
export function decodeJournal(text: string): DecodedJournal {
  const records: ChangeSet[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf("\n", at);
    if (end === -1) break;
    const record = decodeLine(text, at, end);
    if (record === null) break;
    records.push(record);
    at = end + 1;
  }
  return { records, droppedBytes: text.length - at };
}

/** The record in `text` from `at` to `end` (its newline), without copying the line first. */
function decodeLine(text: string, at: number, end: number): ChangeSet | null {
  if (end - at < 9 || text.charCodeAt(at + 8) !== 32 || text.lastIndexOf(" ", at + 7) >= at) {
    return null;
  }
  const json = text.slice(at + 9, end);
  if (parseInt(text.slice(at, at + 8), 16) !== crc32(json)) return null;
  try {
    const entries = JSON.parse(json);
    if (!Array.isArray(entries)) return null;
    const changes: ChangeSet = new Map();
    for (const entry of entries) {
      if (!Array.isArray(entry) || typeof entry[0] !== "string") return null;
      if (entry[1] !== null && typeof entry[1] !== "string") return null;
      changes.set(entry[0], entry[1]);
    }
    return changes;
  } catch {
    return null;
  }
}

/** File name of journal segment `n`: zero-padded so names sort in order. */
export function segmentName(n: number): string {
  return `${String(n).padStart(12, "0")}.log`;
}

/** The number of a segment file name, or null if it is not one. */
export function segmentNumber(name: string): number | null {
  const match = /^([0-9]{12})\.log$/.exec(name);
  return match ? Number(match[1]) : null;
}
