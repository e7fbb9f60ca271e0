// Multi-row statements: writes in chunks under Postgres's limit of 65,535 bind parameters per statement (a map
// task's thousands of elements become several statements), and by-id updates of many rows in one statement.
import type { Knex } from "knex";
import { withDbErrors } from "./pg-errors.js";

const MAX_PARAMS = 60_000;

export async function chunked<R, T>(
  rows: readonly R[],
  paramsPerRow: number,
  write: (chunk: readonly R[]) => Promise<T[]>,
): Promise<T[]> {
  const size = Math.max(1, Math.floor(MAX_PARAMS / Math.max(1, paramsPerRow)));
  if (rows.length <= size) return write(rows);
  const out: T[] = [];
  for (let i = 0; i < rows.length; i += size) out.push(...(await write(rows.slice(i, i + size))));
  return out;
}

/** Columns an update writes, with their SQL types (the VALUES list is cast to them). */
export type TypedColumns<R> = readonly (readonly [keyof R & string, string])[];

/**
 * A table of `rows` as `unnest(?::type[], …) AS alias(col, …)`: one bind parameter (an array) per column, so the
 * statement's text and parameter count do not depend on the row count (and it can be a prepared statement).
 */
export function unnestTable<R>(
  alias: string,
  columns: TypedColumns<R>,
  rows: readonly R[],
): { sql: string; bindings: unknown[][] } {
  return {
    sql: `unnest(${columns.map(([, t]) => `?::${t}[]`).join(", ")}) AS ${alias}(${columns.map(([c]) => `"${c}"`).join(", ")})`,
    bindings: columns.map(([c]) => rows.map((r) => r[c] ?? null)),
  };
}

/** Sets `columns` of every row (matched by `id`) from the given values, returning the stored rows. */
export function updateRowsById<R extends { id: string }>(
  db: Knex,
  table: string,
  columns: TypedColumns<R>,
  rows: readonly R[],
): Promise<R[]> {
  if (rows.length === 0) return Promise.resolve([]);
  const names = columns.map(([c]) => c);
  const tuple = `(?::bigint, ${columns.map(([, type]) => `?::${type}`).join(", ")})`;
  return chunked(rows, columns.length + 1, (chunk) => {
    const sql = `UPDATE ${table} r SET ${names.map((c) => `${c} = v.${c}`).join(", ")}, updated_at = now()
        FROM (VALUES ${chunk.map(() => tuple).join(", ")}) AS v(id, ${names.join(", ")})
       WHERE r.id = v.id RETURNING r.*`;
    const bindings = chunk.flatMap((r) => [r.id, ...names.map((c) => r[c])]) as Knex.RawBinding[];
    return withDbErrors(async () => ((await db.raw(sql, bindings)) as { rows: R[] }).rows);
  });
}
