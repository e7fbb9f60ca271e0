// Offloaded data (input/output literal maps, task logs). The default store keeps blobs in Postgres; any store
// must accept writes inside the caller's transaction so data and the rows pointing at it commit together.
// Writers that know the store is in the database (`inDatabase`) store blobs in their own statements: the
// engine's batch write (engine-writes.ts) and CreateExecution's INSERT (execution-create-repo.ts, which assumes it).
import type { Knex } from "knex";
import { chunked } from "./multi-row.js";
import { withDbErrors } from "./pg-errors.js";

export interface BlobWrite {
  readonly uri: string;
  readonly data: Uint8Array;
}

export interface DataStore {
  /**
   * True when blobs live in this database's `data_blobs` table, so writers may store them in their own statements
   * (CreateExecution's INSERT, the engine's batch write) instead of calling putMany.
   */
  readonly inDatabase: boolean;
  put(db: Knex, uri: string, data: Uint8Array): Promise<void>;
  /** Several blobs at once (one statement in Postgres); a URI given twice keeps its last data. */
  putMany(db: Knex, blobs: readonly BlobWrite[]): Promise<void>;
  get(db: Knex, uri: string): Promise<Uint8Array | undefined>;
}

const SCHEME = "pg://petrel/";

/** A store URI from path parts, e.g. dataUri("metadata", project, domain, name, "inputs"). */
export function dataUri(...parts: string[]): string {
  return `${SCHEME}${parts.map((p) => encodeURIComponent(p)).join("/")}`;
}

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

export class PostgresDataStore implements DataStore {
  readonly inDatabase = true;

  put(db: Knex, uri: string, data: Uint8Array): Promise<void> {
    return this.putMany(db, [{ uri, data }]);
  }

  putMany(db: Knex, blobs: readonly BlobWrite[]): Promise<void> {
    if (blobs.length === 0) return Promise.resolve();
    return chunked(blobs, 2, async (chunk) => {
      const { sql, bindings } = blobUpsertSql(chunk);
      await withDbErrors(() => db.raw(sql, bindings));
      return [];
    }).then(() => undefined);
  }

  get(db: Knex, uri: string): Promise<Uint8Array | undefined> {
    return withDbErrors(async () => {
      const row = (await db("data_blobs").select("data").where({ uri }).first()) as
        | { data: Buffer }
        | undefined;
      return row?.data;
    });
  }
}
