// What retention (server/retention) needs, and fewer bytes per execution:
// - blob URIs compare byte-wise (collation "C"), so the database copies under one execution's directories are one
//   range of data_blobs' primary key whatever the database's collation, and can be dropped as such;
// - the execution key leads with the name, so it also serves lookups by name alone (executions_name_idx goes);
// - the parent index holds child executions only (most have no parent), and new indexes find the executions recovered
//   from one (source_execution_id), the cached outputs one produced and its work items (deleting an execution looks
//   for them: without an index, each deleted execution read all of work_items, a table of short-lived rows whose dead
//   ones pile up between vacuums);
// - the copy trimmer's progress: how far it has walked the executions, and the ones it passed that had not finished.
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.raw(`ALTER TABLE data_blobs ALTER COLUMN uri TYPE text COLLATE "C"`);
  await db.schema.raw(`ALTER TABLE blob_outbox ALTER COLUMN uri TYPE text COLLATE "C"`);
  await db.schema.raw(
    `ALTER TABLE executions DROP CONSTRAINT executions_pkey_name,
       ADD CONSTRAINT executions_pkey_name UNIQUE (execution_name, execution_project, execution_domain)`,
  );
  await db.schema.raw("DROP INDEX executions_name_idx");
  await db.schema.raw("DROP INDEX executions_parent_idx");
  await db.schema.raw(
    `CREATE INDEX executions_parent_idx ON executions (parent_node_execution_id)
      WHERE parent_node_execution_id IS NOT NULL`,
  );
  await db.schema.raw(
    "CREATE INDEX executions_source_idx ON executions (source_execution_id) WHERE source_execution_id IS NOT NULL",
  );
  await db.schema.raw("CREATE INDEX task_cache_source_idx ON task_cache (source_execution)");
  await db.schema.raw("CREATE INDEX work_items_execution_idx ON work_items (execution_id)");
  await db.schema.raw(`CREATE TABLE retention_cursors (
    name text PRIMARY KEY,
    last_id bigint NOT NULL DEFAULT 0
  )`);
  await db.schema.raw("INSERT INTO retention_cursors (name) VALUES ('copies')");
  await db.schema.raw(`CREATE TABLE retention_waiting (
    execution_id bigint PRIMARY KEY REFERENCES executions (id) ON DELETE CASCADE
  )`);
}
