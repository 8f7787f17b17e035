/** Typed byte layouts: one declaration gives the encoder and the decoder of an argument field or a response body. */

import { ARGUMENTS_SIZE, DatagramError, decodeNameField } from "./datagram.ts";

/**
 * Field types: big-endian integers, 32-byte identifiers, 32-byte zero-padded ASCII names,
 * and routing labels ({@linkcode LABEL_SIZE} bytes, laid out by src/paths/labels.ts).
 */
export type FieldType = "u8" | "u32" | "u64" | "i64" | "id" | "name" | "label";

/** Bytes of a routing label field: three trees of a root (u32), a length (u8) and 32 u16s. */
export const LABEL_SIZE = 3 * (4 + 1 + 2 * 32);

type FieldValue<T extends FieldType> = T extends "u64" | "i64" ? bigint
  : T extends "id" | "label" ? Uint8Array
  : T extends "name" ? string
  : number;

/** The decoded value of a layout's fields. */
export type Values<F extends Record<string, FieldType>> = { [K in keyof F]: FieldValue<F[K]> };

const SIZES: Record<FieldType, number> = {
  u8: 1,
  u32: 4,
  u64: 8,
  i64: 8,
  id: 32,
  name: 32,
  label: LABEL_SIZE,
};
const MAX_U64 = (1n << 64n) - 1n;
const MIN_I64 = -(1n << 63n);
const MAX_I64 = (1n << 63n) - 1n;

/** Encoder and decoder for one layout. */
export interface Layout<F extends Record<string, FieldType>> {
  /** Bytes the fields use. */
  readonly size: number;
  /** Bytes of the whole encoding: the fields, then zeros. */
  readonly total: number;
  encode(values: Values<F>): Uint8Array;
  /** Throws {@linkcode DatagramError} on a wrong length or non-zero padding. */
  decode(bytes: Uint8Array): Values<F>;
}

/**
 * Declares a layout: fields packed in order from offset 0, then zeros up to `total` bytes
 * (the 256-byte arguments field by default; pass `"exact"` for a response body).
 *
 * @example
 * ```ts
 * import { layout } from "./layout.ts";
 * const setTrustline = layout({ amount: "u64" });
 * setTrustline.decode(setTrustline.encode({ amount: 100n })).amount; // 100n
 * ```
 */
export function layout<F extends Record<string, FieldType>>(
  fields: F,
  total: number | "exact" = ARGUMENTS_SIZE,
): Layout<F> {
  const entries = Object.entries(fields) as [keyof F & string, FieldType][];
  const size = entries.reduce((sum, [, type]) => sum + SIZES[type], 0);
  const length = total === "exact" ? size : total;
  return {
    size,
    total: length,
    encode: (values) => encodeFields(entries, values, length),
    decode: (bytes) => decodeFields(entries, size, length, bytes),
  };
}

function encodeFields<F extends Record<string, FieldType>>(
  entries: [keyof F & string, FieldType][],
  values: Values<F>,
  total: number,
): Uint8Array {
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (const [name, type] of entries) {
    const value = values[name];
    if (type === "id" || type === "label") {
      const field = value as Uint8Array;
      if (field.length !== SIZES[type]) {
        throw new DatagramError(`${name} must be ${SIZES[type]} bytes`);
      }
      bytes.set(field, at);
    } else if (type === "name") {
      const text = value as string;
      if (text.length > 32 || !/^[\x21-\x7e]*$/.test(text)) {
        throw new DatagramError(`${name} is not a short ASCII name`);
      }
      for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i);
    } else if (type === "u64" || type === "i64") {
      const n = value as bigint;
      const [min, max] = type === "u64" ? [0n, MAX_U64] : [MIN_I64, MAX_I64];
      if (typeof n !== "bigint" || n < min || n > max) {
        throw new DatagramError(`${name} out of range`);
      }
      if (type === "u64") view.setBigUint64(at, n);
      else view.setBigInt64(at, n);
    } else {
      const n = value as number;
      const max = type === "u8" ? 0xff : 0xffff_ffff;
      if (!Number.isInteger(n) || n < 0 || n > max) throw new DatagramError(`${name} out of range`);
      if (type === "u8") view.setUint8(at, n);
      else view.setUint32(at, n);
    }
    at += SIZES[type];
  }
  return bytes;
}

function decodeFields<F extends Record<string, FieldType>>(
  entries: [keyof F & string, FieldType][],
  size: number,
  total: number,
  bytes: Uint8Array,
): Values<F> {
  if (bytes.length !== total) {
    throw new DatagramError(`expected ${total} bytes of arguments, got ${bytes.length}`);
  }
  for (let i = size; i < total; i++) {
    if (bytes[i] !== 0) throw new DatagramError("arguments have bytes after their last field");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = {} as Record<string, unknown>;
  let at = 0;
  for (const [name, type] of entries) {
    if (type === "id" || type === "label") values[name] = bytes.slice(at, at + SIZES[type]);
    else if (type === "name") values[name] = decodeNameField(bytes.subarray(at, at + 32), name);
    else if (type === "u64") values[name] = view.getBigUint64(at);
    else if (type === "i64") values[name] = view.getBigInt64(at);
    else if (type === "u32") values[name] = view.getUint32(at);
    else values[name] = view.getUint8(at);
    at += SIZES[type];
  }
  return values as Values<F>;
}

/**
 * Joins encoded parts, such as a page header and its entries.
 *
 * @example
 * ```ts
 * import { concatBytes } from "./layout.ts";
 * concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}
