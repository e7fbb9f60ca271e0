// The scheduler's state: for each active launch plan with a schedule, its next fire time (and the anchor that
// fixed-rate schedules count from), plus retry bookkeeping when launching a fire keeps failing.
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable("schedule_states", (t) => {
    t.bigInteger("launch_plan_id").primary().references("launch_plans.id").onDelete("CASCADE");
    t.timestamp("anchor_at", { useTz: true }).notNullable();
    t.timestamp("next_fire_at", { useTz: true }).notNullable();
    t.integer("attempts").notNullable().defaultTo(0);
    t.timestamp("retry_after", { useTz: true });
  });
  await db.schema.raw("CREATE INDEX schedule_states_next_idx ON schedule_states (next_fire_at)");
}
