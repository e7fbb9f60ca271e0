// The rows of one or a few arrays, as a set the planner expects to be small. Prepared statements that read rows by
// keys given as arrays (`unnest($1)`) were planned again on every call: unnest of a parameter is estimated at 100
// rows, so the generic plan never looked as cheap as a custom one made for the actual one or two keys. These
// functions (PL/pgSQL, so never inlined, with ROWS 1) give such statements a generic plan, made once per connection;
// their plans are lookups by key whatever the number of keys.
import type { Knex } from "knex";

export async function up(db: Knex): Promise<void> {
  await db.schema.raw(`
    CREATE FUNCTION petrel_ids(ids bigint[]) RETURNS SETOF bigint
      LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 1
      AS $$ BEGIN RETURN QUERY SELECT unnest(ids); END $$`);
  await db.schema.raw(`
    CREATE FUNCTION petrel_execution_keys(projects text[], domains text[], names text[])
      RETURNS TABLE (project text, domain text, name text)
      LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 1
      AS $$ BEGIN RETURN QUERY SELECT * FROM unnest(projects, domains, names); END $$`);
}
