// The engine's claim reads two ordered sources: engine items nobody holds, by when they are due, and leases by when
// they expire (a crashed replica's work). Partial indexes serve each directly, whatever the statistics say, so a
// claim (and the engine's "when is the next item due") reads a few index entries, never the whole queue.
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.raw(
    "CREATE INDEX work_items_unleased_idx ON work_items (run_after, id) WHERE lease_until IS NULL AND queue IS NULL",
  );
  await db.schema.raw(
    "CREATE INDEX work_items_leased_idx ON work_items (lease_until) WHERE lease_until IS NOT NULL AND queue IS NULL",
  );
}
