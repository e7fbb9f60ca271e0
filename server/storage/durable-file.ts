// Crash-safe file replacement: write a temporary file in the target's directory, fsync it, rename it over the target,
// fsync the directory. A reader sees the old file or the new one, never a part; after the promise resolves the new one
// survives a power loss. New parent directories are made durable too (their entries are fsynced into their parents).
import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir, open, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { RESERVED_PREFIX } from "./blob-key.js";

/** The name prefix of temporary files (never a blob: keys cannot start with RESERVED_PREFIX). */
export const TEMP_PREFIX = `${RESERVED_PREFIX}-tmp-`;

/** Makes `dir` (and any missing parents), fsyncing each new directory's entry into its parent. */
export async function makeDirectoryDurably(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  // Every directory from the first one created down to `dir` is new: fsync the parent of each.
  const created: string[] = [];
  for (let d = dir; d.length >= first.length; d = path.dirname(d)) created.push(d);
  for (const d of created.reverse()) await syncDirectory(path.dirname(d));
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes a temporary file beside `target` with `fill`, fsyncs it, lets `beforeRename` run (it may throw to refuse the
 * file), renames it over `target` and fsyncs the directory. The temporary file is removed on any failure.
 */
export async function replaceFileDurably<T>(
  target: string,
  fill: (handle: FileHandle) => Promise<T>,
  beforeRename: (temp: string, filled: T) => Promise<void> = async () => {},
  /** False: the same atomic replacement, its fsyncs left to a later flush of the whole file system. */
  durable = true,
): Promise<T> {
  const dir = path.dirname(target);
  if (durable) await makeDirectoryDurably(dir);
  else await mkdir(dir, { recursive: true });
  const temp = path.join(dir, `${TEMP_PREFIX}${randomBytes(8).toString("hex")}`);
  const handle = await open(temp, "wx", 0o644);
  let closed = false;
  try {
    const filled = await fill(handle);
    if (durable) await handle.sync();
    await handle.close();
    closed = true;
    await beforeRename(temp, filled);
    await rename(temp, target);
    if (durable) await syncDirectory(dir);
    return filled;
  } catch (err) {
    if (!closed) await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw err;
  }
}

/** Writes all of `data` at the handle's position. */
export async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.byteLength) {
    const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset);
    offset += bytesWritten;
  }
}
