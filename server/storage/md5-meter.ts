// Counts and hashes a streamed body as it passes, refusing it past a size limit or (at its end) when its MD5 is not the
// one it was sent with. The S3 store runs its streamed writes through one; the local store's (hashed-write.ts, which
// hashes on a worker thread) raises the same refusals, so they are the same everywhere.
import { createHash, type Hash } from "node:crypto";
import type { Readable } from "node:stream";
import type { AppError } from "../errors.js";
import { md5Mismatch, sameMd5, tooLarge } from "./blob-key.js";
import type { BlobInfo } from "./blob-store.js";

export interface MeterLimits {
  readonly maxBytes?: number;
  readonly contentMd5?: Uint8Array;
}

export class Md5Meter {
  private readonly hash: Hash = createHash("md5");
  private bytes = 0;
  private result: (BlobInfo & { readonly contentMd5: Uint8Array }) | undefined;
  /** The refusal this meter raised, if any (it wins over whatever a store's client made of it). */
  refusal: AppError | undefined;

  constructor(private readonly limits: MeterLimits) {}

  /** Counts a chunk; throws ResourceExhausted once the body passes maxBytes. */
  add(chunk: Uint8Array): void {
    this.bytes += chunk.byteLength;
    if (this.limits.maxBytes !== undefined && this.bytes > this.limits.maxBytes) {
      this.refusal = tooLarge(this.limits.maxBytes);
      throw this.refusal;
    }
    this.hash.update(chunk);
  }

  /** The body's size and MD5 (once the body has ended); throws DataLoss when the MD5 is not the expected one. */
  finish(): BlobInfo & { readonly contentMd5: Uint8Array } {
    this.result ??= { size: this.bytes, contentMd5: this.hash.digest() };
    const expected = this.limits.contentMd5;
    if (expected !== undefined && !sameMd5(this.result.contentMd5, expected)) {
      this.refusal = md5Mismatch();
      throw this.refusal;
    }
    return this.result;
  }
}

/**
 * The chunks of `body`, metered: iterating throws ResourceExhausted past maxBytes and, at the end, DataLoss for a wrong
 * MD5. A refusal stops reading `body` without destroying it, so its owner (an HTTP route) can still answer and close.
 */
export async function* meteredChunks(body: Readable, meter: Md5Meter): AsyncGenerator<Uint8Array> {
  for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>) {
    meter.add(chunk);
    yield chunk;
  }
  meter.finish();
}
