// The engine's durable work queue: items are claimed with FOR UPDATE SKIP LOCKED under a lease.
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable("work_items", (t) => {
    t.bigIncrements("id").primary();
    t.bigInteger("execution_id").notNullable().references("id").inTable("executions").onDelete("CASCADE");
    t.text("kind").notNullable();
    t.text("node_id").notNullable().defaultTo("");
    t.integer("attempt").notNullable().defaultTo(0);
    t.timestamp("run_after", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.text("leased_by");
    t.timestamp("lease_until", { useTz: true });
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
  await db.schema.raw("CREATE INDEX work_items_ready_idx ON work_items (run_after, id)");
  // At most one pending evaluation per execution: further requests fold into it.
  await db.schema.raw(
    "CREATE UNIQUE INDEX work_items_one_eval_idx ON work_items (execution_id) WHERE kind = 'evaluate' AND leased_by IS NULL",
  );
}
