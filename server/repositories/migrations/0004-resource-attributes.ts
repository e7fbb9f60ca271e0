// Matchable attributes at project, project+domain and workflow level ('' where a level does not apply).
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable("resource_attributes", (t) => {
    t.bigIncrements("id").primary();
    t.text("project").notNullable();
    t.text("domain").notNullable().defaultTo("");
    t.text("workflow").notNullable().defaultTo("");
    t.text("launch_plan").notNullable().defaultTo("");
    t.integer("resource_type").notNullable();
    t.binary("attributes").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.unique(["project", "domain", "workflow", "launch_plan", "resource_type"], {
      indexName: "resource_attributes_key",
    });
  });
  await db.schema.raw("CREATE INDEX resource_attributes_type_idx ON resource_attributes (resource_type, id)");
}
