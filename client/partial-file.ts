// A download's file: written beside its destination (`<dest>.<pid>.<random>.partial`, its directory created when it is
// opened), then renamed into place whole, or removed; and a streamed body written into it in large writes.
import fs from "node:fs";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";

/** A download's file, written beside `dest` (its directory created when opened) and renamed into place whole. */
export class PartialFile {
  readonly path: string;
  private handle: Promise<FileHandle> | undefined;

  constructor(readonly dest: string) {
    this.path = `${dest}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
  }

  open(): Promise<FileHandle> {
    this.handle ??= fs.promises
      .mkdir(path.dirname(this.dest), { recursive: true })
      .then(() => fs.promises.open(this.path, "w"));
    return this.handle;
  }

  async commit(): Promise<void> {
    await (await this.open()).close();
    await fs.promises.rename(this.path, this.dest);
  }

  /** Closes and removes the file; never throws (it runs while a download fails, whose error is the one to tell). */
  async discard(): Promise<void> {
    if (this.handle === undefined) return;
    await this.handle.then((h) => h.close()).catch(() => {});
    // Fails when the file was never made (its directory is a file: ENOTDIR); nothing is left behind then.
    await fs.promises.rm(this.path, { force: true }).catch(() => {});
  }
}

/** Body chunks are gathered into buffers of this size, each written with one call. */
const WRITE_BYTES = 1024 * 1024;

/**
 * Writes `body` into `file` in large writes (the chunks copied into two buffers, one filling while the other is
 * written); buffers no larger than the body when its size is known.
 */
export async function writeBody(
  body: AsyncIterable<Buffer>,
  file: FileHandle,
  size: number | undefined,
): Promise<number> {
  const bytes =
    size !== undefined && Number.isSafeInteger(size) ? Math.max(1, Math.min(WRITE_BYTES, size)) : WRITE_BYTES;
  const buffers = [Buffer.allocUnsafeSlow(bytes), Buffer.allocUnsafeSlow(bytes)];
  let cur = 0;
  let fill = 0;
  let position = 0;
  let writing: Promise<void> = Promise.resolve();
  const flush = async () => {
    const buf = buffers[cur] as Buffer;
    const len = fill;
    const at = position;
    position += len;
    await writing; // the other buffer's write: one at a time, in order
    writing = writeFully(file, buf, len, at);
    writing.catch(() => {}); // awaited later; a failure is not unhandled meanwhile
    cur ^= 1;
    fill = 0;
  };
  for await (const chunk of body) {
    for (let off = 0; off < chunk.length; ) {
      const n = chunk.copy(buffers[cur] as Buffer, fill, off);
      fill += n;
      off += n;
      if (fill === bytes) await flush();
    }
  }
  if (fill > 0) await flush();
  await writing;
  return position;
}

async function writeFully(file: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  for (let done = 0; done < length; )
    done += (await file.write(buf, done, length - done, position + done)).bytesWritten;
}
