// Flyte filters as SQL: each parsed filter becomes a condition with placeholders, its values checked against the
// column's kind first, so a bad value is an INVALID_ARGUMENT naming it, never a database error.
import type { Knex } from "knex";
import { invalidArgument } from "../errors.js";
import {
  byteaInput,
  endsInLikeEscape,
  fitsInt4,
  isRfc3339Timestamp,
  parseInteger,
} from "../validation/db-values.js";
import { type Filter, type FilterOp, parseDurationSeconds, shown } from "../validation/filter-grammar.js";
import type { ColumnKind, ListSpec } from "./list-spec.js";

const badValue = (why: string) => invalidArgument(`invalid value for filters: ${why}`);

/** A bound filter value, with the cast its placeholder needs. */
interface Bound {
  readonly value: string | number;
  readonly cast: string;
}

function intValue(value: string): Bound {
  const text = value.trim();
  if (!/^-?\d+$/.test(text)) throw badValue(`'${shown(value)}' is not an integer`);
  const n = parseInteger(text, "int8");
  if (n === undefined) throw badValue(`'${shown(value)}' is out of range`);
  // Beyond int4 the value is sent as a bigint, which an int4 column compares with (finding no match) rather than
  // failing to read it as its own type.
  return fitsInt4(n) ? { value: Number(n), cast: "" } : { value: n.toString(), cast: "::bigint" };
}

function filterValue(value: string, kind: ColumnKind): Bound {
  switch (kind) {
    case "int":
      return intValue(value);
    case "timestamp": {
      const text = value.trim();
      if (!isRfc3339Timestamp(text)) {
        throw badValue(`'${shown(value)}' is not a timestamp (RFC 3339, e.g. 2024-05-01T00:00:00Z)`);
      }
      return { value: text, cast: "::timestamptz" };
    }
    case "duration":
      return { value: parseDurationSeconds(value), cast: "" };
    case "bytes":
      if (byteaInput(value) === undefined) throw badValue(`'${shown(value)}' is not valid bytea input`);
      return { value, cast: "" };
    case "text":
      return { value, cast: "" };
  }
}

/** A LIKE pattern Postgres accepts for a column of this kind (text or bytea only). */
function likePattern(pattern: string, kind: ColumnKind, op: FilterOp, name: string): string {
  if (kind !== "text" && kind !== "bytes") throw badValue(`${op} cannot be used on '${name}'`);
  const bytes = kind === "bytes" ? byteaInput(pattern) : pattern;
  if (bytes === undefined) throw badValue(`'${shown(pattern)}' is not valid bytea input`);
  if (endsInLikeEscape(bytes)) throw badValue(`pattern '${shown(pattern)}' ends with an escape character`);
  return pattern;
}

const SQL_OPS: Readonly<Record<string, string>> = {
  eq: "=",
  ne: "<>",
  gt: ">",
  gte: ">=",
  lt: "<",
  lte: "<=",
};

/** One filter as SQL: a condition with `?` placeholders and their values. */
interface FilterSql {
  readonly entity: string;
  readonly sql: string;
  readonly bindings: (string | number)[];
}

/** The filters as SQL conditions, each value checked against its column first (so this also validates them). */
export function filtersSql(filters: readonly Filter[], spec: ListSpec): FilterSql[] {
  return filters.map((f) => {
    const col = spec.entities[f.entity]?.[f.column];
    if (col === undefined) throw invalidArgument(`'${f.entity}.${shown(f.column)}' is invalid filter`);
    const kind = col.kind ?? "text";
    const name = `${f.entity}.${f.column}`;
    switch (f.op) {
      case "contains":
        return {
          entity: f.entity,
          sql: `${col.sql} LIKE ?`,
          bindings: [likePattern(`%${f.values[0] ?? ""}%`, kind, f.op, name)],
        };
      case "not_like":
        return {
          entity: f.entity,
          sql: `${col.sql} NOT LIKE ?`,
          bindings: [likePattern(f.values[0] ?? "", kind, f.op, name)],
        };
      case "value_in":
      case "value_not_in": {
        const values = f.values.map((v) => filterValue(v, kind));
        const marks = values.map((v) => `?${v.cast}`).join(", ");
        const op = f.op === "value_in" ? "IN" : "NOT IN";
        return { entity: f.entity, sql: `${col.sql} ${op} (${marks})`, bindings: values.map((v) => v.value) };
      }
      default: {
        const v = filterValue(f.values[0] ?? "", kind);
        return { entity: f.entity, sql: `${col.sql} ${SQL_OPS[f.op]} ?${v.cast}`, bindings: [v.value] };
      }
    }
  });
}

/** Adds the parsed filters to the query; joins other entities when a filter names them. */
export function applyFilters(qb: Knex.QueryBuilder, filters: readonly Filter[], spec: ListSpec): void {
  const joined = new Set<string>();
  for (const f of filtersSql(filters, spec)) {
    if (f.entity !== spec.primary && !joined.has(f.entity)) {
      spec.joins?.[f.entity]?.(qb);
      joined.add(f.entity);
    }
    qb.whereRaw(f.sql, f.bindings);
  }
}
