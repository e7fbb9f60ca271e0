// Executions by name alone. Finding one by its key (project, domain, name) through the unique key is what Postgres
// does once it has statistics; before, it takes every column to have 200 distinct values, so the (project, domain)
// prefix of the list indexes looks as selective as the whole key, and it may read all of a project's executions to
// find one. Lookups that must not depend on statistics find the name here and compare project and domain after.
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.raw("CREATE INDEX executions_name_idx ON executions (execution_name)");
}
