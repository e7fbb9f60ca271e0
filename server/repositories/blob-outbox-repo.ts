// The blob outbox (migration 0014): URIs whose blob-store copy is still to be written from their database copy.
import type { Knex } from "knex";
import { withDbErrors } from "./pg-errors.js";

export interface PendingBlob {
  readonly uri: string;
  /** The database copy; null when it is gone (nothing to write). */
  readonly data: Buffer | null;
}

/** Marks blobs as written to the store (their outbox entries go). */
export function clearOutbox(db: Knex, uris: readonly string[]): Promise<void> {
  if (uris.length === 0) return Promise.resolve();
  return withDbErrors(async () => {
    await db.raw("DELETE FROM blob_outbox WHERE uri = ANY(?::text[])", [[...uris]]);
  });
}

/**
 * Up to `limit` pending blobs entered at least `minAgeMs` ago, locked for this transaction (other servers skip them),
 * with their database copies.
 */
export function lockPending(db: Knex, limit: number, minAgeMs: number): Promise<PendingBlob[]> {
  return withDbErrors(async () => {
    const r = (await db.raw(
      `SELECT o.uri, b.data FROM (
         SELECT uri FROM blob_outbox WHERE created_at <= now() - (? || ' milliseconds')::interval
          ORDER BY created_at LIMIT ? FOR UPDATE SKIP LOCKED) o
       LEFT JOIN data_blobs b ON b.uri = o.uri`,
      [String(minAgeMs), limit],
    )) as { rows: PendingBlob[] };
    return r.rows;
  });
}
