/** A small tmpfs for tests of a full disk: mounted for the test, filled to the last page, freed, unmounted. */

const FILLER = "filler";
const CHUNK = 64 * 1024;

/** A mounted tmpfs. */
export interface Tmpfs extends AsyncDisposable {
  readonly path: string;
  /** Writes a filler file until the file system has no room left. */
  fill(): Promise<void>;
  /** Removes the filler file, giving the space back. */
  free(): Promise<void>;
}

/**
 * Mounts a tmpfs of `sizeKiB` on a fresh directory. Mounting needs root (CI runs as root);
 * where it is not allowed this throws, saying so, so that the test fails rather than pass
 * without having run.
 *
 * @example
 * ```ts ignore
 * await using disk = await mountTmpfs(4096);
 * await disk.fill();
 * ```
 */
export async function mountTmpfs(sizeKiB: number): Promise<Tmpfs> {
  const path = await Deno.makeTempDir({ prefix: "ripple-tmpfs-" });
  const mounted = await run("mount", ["-t", "tmpfs", "-o", `size=${sizeKiB}k`, "tmpfs", path]);
  if (mounted !== null) {
    await Deno.remove(path);
    throw new Error(
      `this test needs a small tmpfs, and mounting one is not allowed here (run it as root, ` +
        `as CI does): ${mounted}`,
    );
  }
  const filler = `${path}/${FILLER}`;
  return {
    path,
    async fill() {
      using file = await Deno.open(filler, { write: true, create: true, append: true });
      const zeros = new Uint8Array(CHUNK);
      for (let size = CHUNK; size >= 1; size = Math.floor(size / 2)) {
        try {
          for (;;) await file.write(zeros.subarray(0, size));
        } catch (error) {
          if ((error as { code?: string }).code !== "ENOSPC") throw error;
        }
      }
    },
    free: () => Deno.remove(filler),
    async [Symbol.asyncDispose]() {
      let failed = await run("umount", [path]);
      // Something may still hold a file open there: detach it now, it goes when released.
      if (failed !== null) failed = await run("umount", ["-l", path]);
      if (failed !== null) throw new Error(`cannot unmount ${path}: ${failed}`);
      await Deno.remove(path);
    },
  };
}

/** Runs a system command; null if it succeeded, else what went wrong. */
async function run(command: string, args: string[]): Promise<string | null> {
  try {
    const output = await new Deno.Command(command, { args, stdout: "null", stderr: "piped" })
      .output();
    return output.success ? null : new TextDecoder().decode(output.stderr).trim();
  } catch (error) {
    return `${command}: ${error instanceof Error ? error.message : error}`;
  }
}
