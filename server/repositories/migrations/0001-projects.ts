// Projects: the root of every registered entity.
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable("projects", (t) => {
    t.text("identifier").primary();
    t.text("name").notNullable().defaultTo("");
    t.text("description").notNullable().defaultTo("");
    t.binary("labels");
    t.integer("state").notNullable().defaultTo(0);
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
  await db.schema.raw("CREATE INDEX projects_state_identifier_idx ON projects (state, identifier)");
}
