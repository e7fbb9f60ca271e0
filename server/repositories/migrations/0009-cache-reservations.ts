// Reservations for serializable caches: one execution computes a cache key while the others wait for its result.
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable("task_cache_reservations", (t) => {
    t.text("key").primary();
    t.text("owner").notNullable();
    t.timestamp("expires_at", { useTz: true }).notNullable();
  });
}
