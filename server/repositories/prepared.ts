// Hot statements as named prepared statements: Postgres parses and plans each distinct SQL text once per
// connection (and may settle on a generic plan) instead of on every call — for the engine's and CreateExecution's
// CTE statements that is most of their cost. The name is derived from the text, so one name always means one text.
// (A transaction-pooling pgbouncer older than 1.21 does not support prepared statements.)
import { createHash } from "node:crypto";
import type { Knex } from "knex";

const names = new Map<string, string>();
const MAX_NAMES = 1024;

function nameOf(sql: string): string {
  let name = names.get(sql);
  if (name === undefined) {
    name = `petrel_${createHash("sha1").update(sql).digest("hex").slice(0, 20)}`;
    if (names.size >= MAX_NAMES) names.clear();
    names.set(sql, name);
  }
  return name;
}

/**
 * `db.raw(sql, bindings)` as a named prepared statement; `commitAfter`: the transaction's last statement, its COMMIT
 * sent with it (see db/pg-client.ts).
 */
export function prepared(
  db: Pick<Knex, "raw">,
  sql: string,
  bindings: readonly unknown[],
  commitAfter = false,
): Knex.Raw {
  const options = commitAfter ? { name: nameOf(sql), commitAfter } : { name: nameOf(sql) };
  return db.raw(sql, bindings as Knex.RawBinding[]).options(options);
}
