// Workflow, node and task executions, execution tags, and offloaded data blobs.
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable("executions", (t) => {
    t.bigIncrements("id").primary();
    t.text("execution_project").notNullable();
    t.text("execution_domain").notNullable();
    t.text("execution_name").notNullable();
    t.bigInteger("launch_plan_id").references("id").inTable("launch_plans");
    t.bigInteger("workflow_id").notNullable().references("id").inTable("workflows");
    t.bigInteger("task_id").references("id").inTable("tasks");
    t.text("phase").notNullable().defaultTo("UNDEFINED");
    t.binary("spec").notNullable();
    t.binary("closure").notNullable();
    t.timestamp("started_at", { useTz: true });
    t.timestamp("execution_created_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp("execution_updated_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.double("duration").notNullable().defaultTo(0);
    t.text("abort_cause").notNullable().defaultTo("");
    t.integer("mode").notNullable().defaultTo(0);
    t.bigInteger("source_execution_id");
    t.bigInteger("parent_node_execution_id");
    t.text("cluster").notNullable().defaultTo("");
    t.text("inputs_uri").notNullable().defaultTo("");
    t.text("user_inputs_uri").notNullable().defaultTo("");
    t.text("error_kind").notNullable().defaultTo("");
    t.text("error_code").notNullable().defaultTo("");
    t.text("user").notNullable().defaultTo("");
    t.integer("state").notNullable().defaultTo(0);
    t.text("launch_entity").notNullable().defaultTo("launch_plan");
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.unique(["execution_project", "execution_domain", "execution_name"], {
      indexName: "executions_pkey_name",
    });
  });
  await db.schema.raw(
    "CREATE INDEX executions_list_idx ON executions (execution_project, execution_domain, execution_created_at, id)",
  );
  await db.schema.raw(
    "CREATE INDEX executions_phase_idx ON executions (execution_project, execution_domain, phase, id)",
  );
  await db.schema.raw("CREATE INDEX executions_lp_idx ON executions (launch_plan_id, phase)");
  await db.schema.raw("CREATE INDEX executions_parent_idx ON executions (parent_node_execution_id)");
  await db.schema.createTable("execution_tags", (t) => {
    t.bigInteger("execution_id").notNullable().references("id").inTable("executions").onDelete("CASCADE");
    t.text("key").notNullable();
    t.text("value").notNullable().defaultTo("");
    t.primary(["execution_id", "key"]);
  });
  await db.schema.raw("CREATE INDEX execution_tags_kv_idx ON execution_tags (key, value, execution_id)");
  await db.schema.createTable("node_executions", (t) => {
    t.bigIncrements("id").primary();
    t.bigInteger("execution_id").notNullable().references("id").inTable("executions").onDelete("CASCADE");
    t.text("node_id").notNullable();
    t.text("phase").notNullable().defaultTo("UNDEFINED");
    t.binary("closure").notNullable();
    t.binary("metadata");
    t.text("input_uri").notNullable().defaultTo("");
    t.timestamp("started_at", { useTz: true });
    t.timestamp("node_execution_created_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp("node_execution_updated_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.double("duration").notNullable().defaultTo(0);
    t.bigInteger("parent_id");
    t.bigInteger("parent_task_execution_id");
    t.text("error_kind").notNullable().defaultTo("");
    t.text("error_code").notNullable().defaultTo("");
    t.text("cache_status").notNullable().defaultTo("");
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.unique(["execution_id", "node_id"], { indexName: "node_executions_key" });
  });
  await db.schema.raw(
    "CREATE INDEX node_executions_list_idx ON node_executions (execution_id, parent_id, created_at, id)",
  );
  await db.schema.createTable("task_executions", (t) => {
    t.bigIncrements("id").primary();
    t.bigInteger("node_execution_id")
      .notNullable()
      .references("id")
      .inTable("node_executions")
      .onDelete("CASCADE");
    t.text("project").notNullable();
    t.text("domain").notNullable();
    t.text("name").notNullable();
    t.text("version").notNullable();
    t.integer("retry_attempt").notNullable();
    t.text("phase").notNullable().defaultTo("UNDEFINED");
    t.integer("phase_version").notNullable().defaultTo(0);
    t.binary("closure").notNullable();
    t.text("input_uri").notNullable().defaultTo("");
    t.timestamp("started_at", { useTz: true });
    t.timestamp("task_execution_created_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp("task_execution_updated_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.double("duration").notNullable().defaultTo(0);
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.unique(["node_execution_id", "project", "domain", "name", "version", "retry_attempt"], {
      indexName: "task_executions_key",
    });
  });
  await db.schema.raw(
    "CREATE INDEX task_executions_list_idx ON task_executions (node_execution_id, created_at, id)",
  );
  await db.schema.createTable("data_blobs", (t) => {
    t.text("uri").primary();
    t.binary("data").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
}
