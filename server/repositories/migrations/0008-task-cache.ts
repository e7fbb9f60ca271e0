// Cached task outputs: keyed by project, domain, task name, cache version and a hash of the inputs.
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable("task_cache", (t) => {
    t.text("key").primary();
    t.binary("outputs").notNullable();
    t.text("source_execution").notNullable().defaultTo("");
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
}
