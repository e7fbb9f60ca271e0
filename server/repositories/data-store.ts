// Offloaded data (input/output literal maps, task logs): written to the blob store (storage/), with copies of the small
// ones in Postgres so the engine reads them in its own statements. Writers that batch (the engine's batch write in
// engine-writes.ts, CreateExecution's INSERT in execution-create-repo.ts) store the database copies in their own
// statement and materialize the blobs in the store before they commit: a row never points at a missing blob.
import type { Knex } from "knex";
import type { BlobStore } from "../storage/blob-store.js";
import { chunked } from "./multi-row.js";
import { withDbErrors } from "./pg-errors.js";

export interface BlobWrite {
  readonly uri: string;
  readonly data: Uint8Array;
}

export interface DataStore {
  /** The blob store's root: every URI handed to a task or a client starts with it (see storage/layout.ts). */
  readonly root: string;
  /** The blob store behind it (tasks' files, signed URLs). */
  readonly blobs: BlobStore;
  /** Stores blobs: in the blob store, and (small ones) a copy in this database for the engine's fast reads. */
  putMany(db: Knex, blobs: readonly BlobWrite[]): Promise<void>;
  /**
   * The part of `blobs` whose database copies a writer stores in its own statement (CreateExecution's INSERT, the
   * engine's batch write); it must also call `materialize(blobs)` before committing.
   */
  databaseCopies(blobs: readonly BlobWrite[]): BlobWrite[];
  /** Writes blobs to the blob store only (durable when it resolves). */
  materialize(blobs: readonly BlobWrite[]): Promise<void>;
  /**
   * Hands over blobs whose database copies (and blob outbox entries) just committed, for the blob materializer to
   * write to the store; without one (no server running) the outbox keeps them.
   */
  committed(blobs: readonly BlobWrite[]): void;
  /** A blob: its database copy when there is one, else the blob store's. */
  get(db: Knex, uri: string): Promise<Uint8Array | undefined>;
  /** A blob's database copy only. */
  copyOf(db: Knex, uri: string): Promise<Uint8Array | undefined>;
}

/** URIs of data written before the blob store existed: their only copy is in `data_blobs`. */
const SCHEME = "pg://petrel/";

/**
 * The upsert of `blobs` as one SQL statement (usable as a data-modifying CTE); with `guard`, a condition that must
 * hold for anything to be written. A URI given twice keeps its last data.
 */
export function blobUpsertSql(
  blobs: readonly BlobWrite[],
  guard = "true",
): { sql: string; bindings: (string | Buffer)[] } {
  const rows = new Map(blobs.map((b) => [b.uri, Buffer.from(b.data)]));
  return {
    sql: `INSERT INTO data_blobs (uri, data)
          SELECT v.uri, v.data FROM (VALUES ${[...rows].map(() => "(?, ?::bytea)").join(", ")}) AS v(uri, data)
           WHERE ${guard}
          ON CONFLICT (uri) DO UPDATE SET data = EXCLUDED.data`,
    bindings: [...rows].flat(),
  };
}

/** Blob writes in flight at once while materializing a batch. */
const MATERIALIZE_CONCURRENCY = 32;

/**
 * Blobs in a blob store, with copies of the small ones (literal maps up to `maxCopyBytes`) in this database's
 * `data_blobs` table, written in the same transaction as the rows that point at them, so the engine reads them without
 * a trip to the store. URIs of the `pg://` scheme (data stored before the blob store existed) live only here.
 */
export class TieredDataStore implements DataStore {
  readonly root: string;
  private afterCommit: ((blobs: readonly BlobWrite[]) => void) | undefined;

  constructor(
    readonly blobs: BlobStore,
    private readonly maxCopyBytes = 64 * 1024,
  ) {
    this.root = blobs.root;
  }

  /** Who writes committed blobs to the store (the server's BlobMaterializer). */
  materializeWith(write: (blobs: readonly BlobWrite[]) => void): void {
    this.afterCommit = write;
  }

  committed(blobs: readonly BlobWrite[]): void {
    if (blobs.length > 0) this.afterCommit?.(blobs);
  }

  databaseCopies(blobs: readonly BlobWrite[]): BlobWrite[] {
    return blobs.filter((b) => b.data.byteLength <= this.maxCopyBytes);
  }

  async materialize(blobs: readonly BlobWrite[]): Promise<void> {
    const unique = [...new Map(blobs.map((b) => [b.uri, b.data]))];
    const put = ([uri, data]: [string, Uint8Array]) => this.blobs.put(uri, data);
    for (let i = 0; i < unique.length; i += MATERIALIZE_CONCURRENCY)
      await Promise.all(unique.slice(i, i + MATERIALIZE_CONCURRENCY).map(put));
  }

  async putMany(db: Knex, blobs: readonly BlobWrite[]): Promise<void> {
    if (blobs.length === 0) return;
    const copies = this.databaseCopies(blobs);
    await Promise.all([
      this.materialize(blobs),
      copies.length === 0
        ? undefined
        : chunked(copies, 2, async (chunk) => {
            const { sql, bindings } = blobUpsertSql(chunk);
            await withDbErrors(() => db.raw(sql, bindings));
            return [];
          }),
    ]);
  }

  copyOf(db: Knex, uri: string): Promise<Uint8Array | undefined> {
    return withDbErrors(
      async () =>
        ((await db("data_blobs").select("data").where({ uri }).first()) as { data: Buffer } | undefined)
          ?.data,
    );
  }

  async get(db: Knex, uri: string): Promise<Uint8Array | undefined> {
    const copy = await this.copyOf(db, uri);
    if (copy !== undefined || uri.startsWith(SCHEME)) return copy;
    return this.blobs.owns(uri) ? this.blobs.get(uri) : undefined;
  }
}
