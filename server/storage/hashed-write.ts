// A streamed body written to a file and MD5-hashed at once: its chunks are gathered into a few large shared buffers,
// each written with one call (thread pool) and hashed on the MD5 worker while the next fills from the socket, so the
// hash, the writes and the socket reads overlap instead of taking turns (the hash alone was the upload's ceiling, on
// the event loop). A body that ends inside its first buffer is hashed in place (no worker round trip for small
// blobs). The disk is asked to write the body as it arrives, so the final fsync has little left to do. Refusals are
// those of md5-meter.ts.
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import { md5Mismatch, sameMd5, tooLarge } from "./blob-key.js";
import type { BlobInfo } from "./blob-store.js";
import type { MeterLimits } from "./md5-meter.js";
import { type Md5Job, Md5Worker } from "./md5-worker.js";

const SLAB_BYTES = 4 * 1024 * 1024;
/** Buffers per body: one filling while the others are written and hashed. */
const SLABS = 4;
/** Buffers kept for the next bodies (allocated again, and collected, otherwise). */
const POOLED_SLABS = 8;
/**
 * Every this many bytes written, a datasync starts (one at a time, beside the writes): the disk writes the body while
 * it arrives instead of all of it at the final fsync (~+50% MiB/s, and less CPU, for 256 MiB; bench:data-proxy).
 */
const SYNC_EVERY = 16 * 1024 * 1024;

interface Slab {
  readonly shared: SharedArrayBuffer;
  readonly bytes: Buffer;
}

export class HashedWriter {
  private readonly hasher = new Md5Worker();
  private readonly pool: Slab[] = [];

  /**
   * Writes `body` into `file` (from its position 0), hashing it; returns its size and MD5. Throws ResourceExhausted
   * past `maxBytes` and DataLoss for an MD5 other than `contentMd5` (stopping reading without destroying `body`);
   * every write, datasync and hash started has ended when it returns or throws.
   */
  async write(
    body: Readable,
    file: FileHandle,
    limits: MeterLimits,
  ): Promise<BlobInfo & { readonly contentMd5: Uint8Array }> {
    const run = new Run(file, this.hasher, () => this.takeSlab());
    try {
      return await run.consume(body, limits);
    } finally {
      for (const slab of run.slabs) if (this.pool.length < POOLED_SLABS) this.pool.push(slab);
    }
  }

  async close(): Promise<void> {
    this.pool.length = 0;
    await this.hasher.close();
  }

  private takeSlab(): Slab {
    const pooled = this.pool.pop();
    if (pooled !== undefined) return pooled;
    const shared = new SharedArrayBuffer(SLAB_BYTES);
    return { shared, bytes: Buffer.from(shared) };
  }
}

/** One body's write. */
class Run {
  /** Every slab this body took (all free again once it is over). */
  readonly slabs: Slab[] = [];
  private readonly free: Slab[] = [];
  private cur: Slab;
  private fill = 0;
  private position = 0;
  private job: Md5Job | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** The last write started: writes go one at a time, in order (concurrent writes to one file contend on its lock). */
  private lastWrite: Promise<void> = Promise.resolve();
  private syncing: Promise<void> | undefined;
  private failure: unknown;
  private wake: (() => void) | undefined;

  constructor(
    private readonly file: FileHandle,
    private readonly hasher: Md5Worker,
    private readonly takeSlab: () => Slab,
  ) {
    this.cur = this.newSlab();
  }

  async consume(
    body: Readable,
    limits: MeterLimits,
  ): Promise<BlobInfo & { readonly contentMd5: Uint8Array }> {
    let size = 0;
    try {
      for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (limits.maxBytes !== undefined && size > limits.maxBytes) throw tooLarge(limits.maxBytes);
        for (let off = 0; off < chunk.byteLength; ) {
          const n = Math.min(chunk.byteLength - off, SLAB_BYTES - this.fill);
          // Buffer#copy is a memmove; a TypedArray set into shared memory copies with relaxed atomics (slower).
          Buffer.prototype.copy.call(chunk, this.cur.bytes, this.fill, off, off + n);
          this.fill += n;
          off += n;
          if (this.fill === SLAB_BYTES) {
            this.dispatch();
            this.cur = await this.nextSlab();
            this.fill = 0;
          }
        }
      }
      let md5: Uint8Array;
      if (this.job === undefined) {
        // The whole body is in the first slab: hashed here, written once.
        md5 = createHash("md5").update(this.cur.bytes.subarray(0, this.fill)).digest();
        await writeFully(this.file, this.cur.bytes, this.fill, 0);
      } else {
        if (this.fill > 0) this.dispatch();
        await this.settled();
        if (this.failure !== undefined) throw this.failure;
        md5 = await this.job.digest();
      }
      if (limits.contentMd5 !== undefined && !sameMd5(md5, limits.contentMd5)) throw md5Mismatch();
      return { size, contentMd5: md5 };
    } catch (err) {
      await this.settled();
      this.job?.drop();
      throw err;
    }
  }

  private newSlab(): Slab {
    const slab = this.takeSlab();
    this.slabs.push(slab);
    return slab;
  }

  /** Writes and hashes `cur[0, fill)`; the slab is free again once both are done. */
  private dispatch(): void {
    const slab = this.cur;
    const length = this.fill;
    const at = this.position;
    this.position += length;
    this.job ??= this.hasher.job();
    const write = this.lastWrite.then(() => writeFully(this.file, slab.bytes, length, at));
    this.lastWrite = write.catch(() => {});
    if (Math.floor(this.position / SYNC_EVERY) > Math.floor(at / SYNC_EVERY) && this.syncing === undefined) {
      // Its failure is not this write's: the fsync before the blob is renamed into place reports it.
      this.syncing = write
        .then(() => this.file.datasync())
        .catch(() => {})
        .finally(() => {
          this.syncing = undefined;
        });
    }
    const tracked = Promise.all([write, this.job.update(slab.shared, 0, length)])
      .then(
        () => {
          this.free.push(slab);
        },
        (err: unknown) => {
          this.failure ??= err;
        },
      )
      .finally(() => {
        this.inFlight.delete(tracked);
        this.wake?.();
      });
    this.inFlight.add(tracked);
  }

  /** The next slab to fill: a free one, another while fewer than SLABS are taken, else the first to come back. */
  private async nextSlab(): Promise<Slab> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const slab = this.free.pop();
      if (slab !== undefined) return slab;
      if (this.slabs.length < SLABS) return this.newSlab();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }

  /** Once every write, hash and datasync started has ended. */
  private async settled(): Promise<void> {
    await Promise.all(this.inFlight);
    await this.syncing;
  }
}

async function writeFully(file: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  for (let done = 0; done < length; ) {
    done += (await file.write(buf, done, length - done, position + done)).bytesWritten;
  }
}
