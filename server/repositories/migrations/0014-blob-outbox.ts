// Blobs whose database copy is committed but whose blob-store copy may not be written yet: the engine writes its
// small blobs' database copies with the rows that point at them and leaves the store copy to the materializer, which
// removes a URI from here once the store holds it. What a crash leaves here is written by the next server.
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.raw(`CREATE TABLE blob_outbox (
    uri text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
  )`);
  await db.schema.raw("CREATE INDEX blob_outbox_created_idx ON blob_outbox (created_at)");
}
