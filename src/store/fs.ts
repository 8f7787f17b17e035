/** The file operations the store needs, behind an interface: the real disk, or the simulator's memory. */

/** An entry of a directory listing. */
export interface DirEntry {
  name: string;
  isDirectory: boolean;
}

/** A file opened for appending, kept open across writes. */
export interface AppendFile {
  append(data: Uint8Array): Promise<void>;
  /** Makes every appended byte durable (fdatasync). */
  sync(): Promise<void>;
  /** Cuts the file to `length` bytes, dropping what a failed append left after it. */
  truncate(length: number): Promise<void>;
  close(): void;
}

/** Options of {@linkcode FileSystem.write}. */
export interface WriteOptions {
  /** Permission bits for a new file. */
  mode?: number;
  /** fsync the file before returning. */
  sync?: boolean;
}

/**
 * The file layer under the store. Paths are absolute, `/`-separated. Operations on a
 * missing path return `null` (reads) or do nothing (removal) rather than throw.
 */
export interface FileSystem {
  read(path: string): Promise<Uint8Array | null>;
  list(path: string): Promise<DirEntry[] | null>;
  /** Creates or truncates `path` and writes `data`. */
  write(path: string, data: Uint8Array, options?: WriteOptions): Promise<void>;
  openAppend(path: string): Promise<AppendFile>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  /**
   * Creates a directory and its missing parents; returns the ones it created, outermost
   * first (none if it existed), so a caller can fsync their parents.
   */
  mkdir(path: string): Promise<string[]>;
  /** fsyncs a directory, making the entries created, renamed or removed in it durable. */
  syncDir(path: string): Promise<void>;
}

/**
 * The real disk through `Deno.*`. Needs `--allow-read` and `--allow-write` for the datadir.
 *
 * @example
 * ```ts ignore
 * import { DenoFileSystem } from "./fs.ts";
 * const fs = new DenoFileSystem();
 * await fs.write("/tmp/example.txt", new TextEncoder().encode("1\n"), { sync: true });
 * ```
 */
export class DenoFileSystem implements FileSystem {
  async read(path: string): Promise<Uint8Array | null> {
    try {
      return await Deno.readFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  }

  async list(path: string): Promise<DirEntry[] | null> {
    try {
      const entries: DirEntry[] = [];
      for await (const entry of Deno.readDir(path)) {
        entries.push({ name: entry.name, isDirectory: entry.isDirectory });
      }
      return entries;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  }

  async write(path: string, data: Uint8Array, options: WriteOptions = {}): Promise<void> {
    using file = await Deno.open(path, {
      write: true,
      create: true,
      truncate: true,
      mode: options.mode,
    });
    let written = 0;
    while (written < data.length) written += await file.write(data.subarray(written));
    if (options.sync) await file.syncData();
  }

  async openAppend(path: string): Promise<AppendFile> {
    const file = await Deno.open(path, { append: true, create: true });
    return {
      async append(data) {
        let written = 0;
        while (written < data.length) written += await file.write(data.subarray(written));
      },
      sync: () => file.syncData(),
      truncate: (length) => file.truncate(length),
      close: () => file.close(),
    };
  }

  async rename(from: string, to: string): Promise<void> {
    await Deno.rename(from, to);
  }

  async remove(path: string): Promise<void> {
    try {
      await Deno.remove(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }

  async mkdir(path: string): Promise<string[]> {
    try {
      if ((await Deno.stat(path)).isDirectory) return [];
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const parent = dirname(path);
    const created = parent === path ? [] : await this.mkdir(parent);
    try {
      await Deno.mkdir(path);
    } catch (error) {
      // Another process (`ripple account add` beside a server) may have made it meanwhile.
      if (error instanceof Deno.errors.AlreadyExists) return created;
      throw error;
    }
    return [...created, path];
  }

  async syncDir(path: string): Promise<void> {
    using dir = await Deno.open(path, { read: true });
    await dir.sync();
  }
}

/**
 * Whether a storage error means the disk is full (ENOSPC, or EDQUOT for a quota): the write
 * did not happen, and may succeed once space is freed. Any other error, and any error of an
 * fsync, means the disk may have lost data.
 *
 * @example
 * ```ts
 * import { isDiskFull } from "./fs.ts";
 * isDiskFull(Object.assign(new Error("No space left on device"), { code: "ENOSPC" })); // true
 * ```
 */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

/**
 * Whether an error means the process is out of file descriptors (EMFILE, or ENFILE for the
 * whole system): nothing was opened, and the same call may succeed once one is closed.
 *
 * @example
 * ```ts
 * import { isOutOfFiles } from "./fs.ts";
 * isOutOfFiles(new Error("Too many open files (os error 24)")); // true
 * ```
 */
export function isOutOfFiles(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "EMFILE" || code === "ENFILE") return true;
  return error instanceof Error && /\(os error 2[34]\)/.test(error.message);
}

/** The directory part of a `/`-separated path (`.` for a bare name). */
export function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

/** The last part of a `/`-separated path. */
export function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
