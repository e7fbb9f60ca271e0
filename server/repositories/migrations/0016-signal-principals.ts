// Who set a signal: the authenticated principal of the SetSignal call ('' without authentication).
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.raw("ALTER TABLE signals ADD COLUMN set_by text NOT NULL DEFAULT ''");
}
