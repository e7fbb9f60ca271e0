// The event batch's blobs (see event-batch.ts): those its events wrote, kept until its flush writes them; every blob
// the transaction wrote or read, so that reads inside it see its own writes; and the database copies it wrote, whose
// store copies are due once it commits.
import type { Knex } from "knex";
import type { BlobWrite, DataStore } from "../repositories/data-store.js";

export class BatchBlobs {
  private readonly pending = new Map<string, Uint8Array>();
  private readonly cache = new Map<string, Uint8Array | undefined>();
  /** Blobs whose database copies this transaction wrote: their store copies are due once it commits. */
  private readonly copies: BlobWrite[] = [];

  constructor(
    private readonly trx: Knex,
    private readonly data: DataStore,
  ) {}

  /** A stored blob that was read together with another row. */
  cacheData(uri: string, data: Uint8Array): void {
    if (!this.cache.has(uri)) this.cache.set(uri, data);
  }

  /** Blobs for the next write; readers inside the transaction see them at once. */
  add(blobs: readonly BlobWrite[]): void {
    for (const b of blobs) {
      this.pending.set(b.uri, b.data);
      this.cache.set(b.uri, b.data);
    }
  }

  /** A blob as this transaction sees it (its own writes included); reads are cached for the batch's life. */
  async read(uri: string): Promise<Uint8Array | undefined> {
    if (this.cache.has(uri)) return this.cache.get(uri);
    const data = await this.data.get(this.trx, uri);
    this.cache.set(uri, data);
    return data;
  }

  /** The blobs added since the last call: the next write's. */
  take(): BlobWrite[] {
    const blobs = [...this.pending].map(([uri, data]) => ({ uri, data }));
    this.pending.clear();
    return blobs;
  }

  /**
   * Starts writing blobs taken for a write. Small blobs: their database copies (returned) are written with the rows
   * (and entered in the blob outbox); their store copies are written after commit (see committed). Larger ones go to
   * the store before the commit: `stored` settles when they are there (undefined: there are none).
   */
  write(blobs: readonly BlobWrite[]): { copies: BlobWrite[]; stored: Promise<void> | undefined } {
    const copies = this.data.databaseCopies(blobs);
    const copied = new Set(copies.map((b) => b.uri));
    const direct = blobs.filter((b) => !copied.has(b.uri));
    this.copies.push(...copies);
    return { copies, stored: direct.length > 0 ? this.data.materialize(direct) : undefined };
  }

  /** Blobs written as database copies (and outbox entries): the materializer writes their store copies after commit. */
  committed(): readonly BlobWrite[] {
    return this.copies;
  }
}
