// Task attempts for external workers carry the name of the task they wait for; the engine leaves them alone.
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable("work_items", (t) => {
    t.text("queue");
  });
  await db.schema.raw(
    "CREATE INDEX work_items_queue_idx ON work_items (queue, run_after, id) WHERE queue IS NOT NULL",
  );
}
