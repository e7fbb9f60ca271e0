// Page tokens: opaque keyset cursors (base64url JSON of the sort key, direction, and the last row's sort value and
// tie-breaker), so page N costs what page 1 costs and rows inserted while a client pages never make it skip or
// repeat an item. A purely numeric token (what FlyteAdmin and old clients send: a row offset) is still accepted.
// Cursor values are checked against the sort key's type before any SQL runs.
import type { Knex } from "knex";
import { invalidArgument } from "../errors.js";
import { isPgFloatText, isPgTimestamptzText, parseInteger } from "../validation/db-values.js";
import { shown } from "../validation/filter-grammar.js";
import type { ListSpec, ResolvedSort, SortType } from "./list-spec.js";

/** Where the previous page ended: sort key (k), direction (d), the last row's sort value (v) and tie-breaker (t). */
export interface Cursor {
  readonly k: string;
  readonly d: "asc" | "desc";
  readonly v: string | null;
  readonly t: string;
}

/** Whether a cursor value is text Postgres reads as this type. */
function validCursorValue(v: string, type: SortType): boolean {
  switch (type) {
    case "text":
      return !v.includes("\0");
    case "bigint":
      return parseInteger(v, "int8") !== undefined;
    case "int":
      return parseInteger(v, "int4") !== undefined;
    case "float8":
      return isPgFloatText(v);
    case "timestamptz":
      return isPgTimestamptzText(v);
  }
}

/**
 * The position a token names: a row offset (a decimal, as FlyteAdmin's tokens are) or a cursor this list issued for
 * this sort. Anything else, including a cursor whose values do not fit the sort key's type, is invalid.
 */
export function decodeToken(token: string, sort: ResolvedSort, spec: ListSpec): Cursor | number | undefined {
  if (token === "") return undefined;
  const bad = () => invalidArgument(`invalid pagination token ${shown(token)} for ${spec.rpcName}`);
  if (/^\d+$/.test(token)) {
    const offset = parseInteger(token, "int8");
    if (offset === undefined) throw bad();
    // No table holds 2^53 rows: a larger offset is past the end either way.
    return Number(offset > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : offset);
  }
  let cursor: unknown;
  try {
    cursor = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw bad();
  }
  if (typeof cursor !== "object" || cursor === null) throw bad();
  const { k, d, v, t } = cursor as Record<string, unknown>;
  if (k !== sort.key || d !== sort.dir) throw bad();
  if (typeof t !== "string" || !validCursorValue(t, spec.tieBreaker.type)) throw bad();
  if (v === null) {
    if (sort.spec.nullable !== true) throw bad();
  } else if (typeof v !== "string" || !validCursorValue(v, sort.spec.type)) {
    throw bad();
  }
  return { k: sort.key, d: sort.dir, v, t };
}

export function encodeToken(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), "utf8").toString("base64url");
}

/** Rows after the cursor in (sort, tie-breaker) order. NULLs sort last ascending and first descending. */
export function applyKeyset(
  qb: Knex.QueryBuilder,
  c: Cursor,
  sort: ResolvedSort,
  tb: ListSpec["tieBreaker"],
): void {
  const cmp = sort.dir === "asc" ? ">" : "<";
  const col = sort.spec.sql;
  const v = `?::${sort.spec.type}`;
  const t = `?::${tb.type}`;
  if (sort.spec.nullable !== true) {
    qb.whereRaw(`(${col}, ${tb.sql}) ${cmp} (${v}, ${t})`, [c.v ?? "", c.t]);
  } else if (c.v === null) {
    const rest = sort.dir === "desc" ? ` OR ${col} IS NOT NULL` : "";
    qb.whereRaw(`((${col} IS NULL AND ${tb.sql} ${cmp} ${t})${rest})`, [c.t]);
  } else {
    const nulls = sort.dir === "asc" ? ` OR ${col} IS NULL` : "";
    qb.whereRaw(`(${col} ${cmp} ${v} OR (${col} = ${v} AND ${tb.sql} ${cmp} ${t})${nulls})`, [c.v, c.v, c.t]);
  }
}
