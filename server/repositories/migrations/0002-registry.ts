// Tasks, workflows and launch plans: specs and closures as protobuf binary, plus the columns lists filter on.
import type { Knex } from "knex";

function entityColumns(t: Knex.CreateTableBuilder, db: Knex): void {
  t.bigIncrements("id").primary();
  t.text("project").notNullable();
  t.text("domain").notNullable();
  t.text("name").notNullable();
  t.text("version").notNullable();
  t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
  t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
  t.text("digest").notNullable();
  t.text("short_description").notNullable().defaultTo("");
}

async function listIndexes(db: Knex, table: string): Promise<void> {
  // Serve "latest versions of one name", "everything in a project/domain" and the distinct-name lists.
  await db.schema.raw(
    `CREATE INDEX ${table}_pdn_created_idx ON ${table} (project, domain, name, created_at, id)`,
  );
  await db.schema.raw(`CREATE INDEX ${table}_pd_created_idx ON ${table} (project, domain, created_at, id)`);
  await db.schema.raw(`CREATE INDEX ${table}_pd_version_idx ON ${table} (project, domain, version, id)`);
}

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable("tasks", (t) => {
    entityColumns(t, db);
    t.text("type").notNullable();
    t.binary("closure").notNullable();
    t.unique(["project", "domain", "name", "version"], { indexName: "tasks_id_key" });
  });
  await listIndexes(db, "tasks");
  await db.schema.createTable("workflows", (t) => {
    entityColumns(t, db);
    t.binary("typed_interface").notNullable();
    t.binary("closure").notNullable();
    t.unique(["project", "domain", "name", "version"], { indexName: "workflows_id_key" });
  });
  await listIndexes(db, "workflows");
  await db.schema.createTable("launch_plans", (t) => {
    entityColumns(t, db);
    t.bigInteger("workflow_id").notNullable().references("id").inTable("workflows");
    t.binary("spec").notNullable();
    t.binary("closure").notNullable();
    t.integer("state").notNullable().defaultTo(0);
    t.text("schedule_type").notNullable().defaultTo("NONE");
    t.text("launch_condition_type").notNullable().defaultTo("");
    t.unique(["project", "domain", "name", "version"], { indexName: "launch_plans_id_key" });
  });
  await listIndexes(db, "launch_plans");
  await db.schema.raw(
    "CREATE UNIQUE INDEX launch_plans_one_active_idx ON launch_plans (project, domain, name) WHERE state = 1",
  );
  await db.schema.raw(
    "CREATE INDEX launch_plans_active_idx ON launch_plans (project, domain, state, created_at, id)",
  );
  await db.schema.raw("CREATE INDEX launch_plans_workflow_idx ON launch_plans (workflow_id)");
}
