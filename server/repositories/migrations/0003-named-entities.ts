// Named-entity metadata (description, archive state) and description entities.
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable("named_entity_metadata", (t) => {
    t.integer("resource_type").notNullable();
    t.text("project").notNullable();
    t.text("domain").notNullable();
    t.text("name").notNullable();
    t.text("description").notNullable().defaultTo("");
    t.integer("state").notNullable().defaultTo(0);
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(["resource_type", "project", "domain", "name"]);
  });
  await db.schema.createTable("description_entities", (t) => {
    t.bigIncrements("id").primary();
    t.integer("resource_type").notNullable();
    t.text("project").notNullable();
    t.text("domain").notNullable();
    t.text("name").notNullable();
    t.text("version").notNullable();
    t.text("short_description").notNullable().defaultTo("");
    t.binary("long_description");
    t.binary("source_code");
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.unique(["resource_type", "project", "domain", "name", "version"], {
      indexName: "description_entities_id_key",
    });
  });
  await db.schema.raw(
    "CREATE INDEX description_entities_list_idx ON description_entities (resource_type, project, domain, name, created_at, id)",
  );
}
