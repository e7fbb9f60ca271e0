// Signals that gate nodes wait on (keyed by execution name, as FlyteAdmin does not require the execution to exist).
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable("signals", (t) => {
    t.bigIncrements("id").primary();
    t.text("execution_project").notNullable();
    t.text("execution_domain").notNullable();
    t.text("execution_name").notNullable();
    t.text("signal_id").notNullable();
    t.binary("type").notNullable();
    t.binary("value");
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.unique(["execution_project", "execution_domain", "execution_name", "signal_id"], {
      indexName: "signals_key",
    });
  });
  await db.schema.raw(
    "CREATE INDEX signals_list_idx ON signals (execution_project, execution_domain, execution_name, created_at, id)",
  );
}
