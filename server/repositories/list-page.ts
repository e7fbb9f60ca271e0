// One page of any list: Flyte filters and sort keys turned into SQL, and keyset pagination.
//
// Tokens are opaque keyset cursors (base64url JSON of the sort key, direction, and the last row's sort value and
// tie-breaker), so page N costs what page 1 costs and rows inserted while a client pages never make it skip or
// repeat an item. A purely numeric token (what FlyteAdmin and old clients send: a row offset) is still accepted.
// Every query selects the sort value and tie-breaker under the reserved aliases `__sort` and `__tb`, which are
// stripped from the rows returned. Filter values and tokens are checked against the column types before any SQL
// runs, so a bad one is an INVALID_ARGUMENT naming it, never a database error.
import type { Knex } from "knex";
import { Sort_Direction } from "../../gen/flyteidl/admin/common_pb.js";
import { invalidArgument } from "../errors.js";
import {
  byteaInput,
  endsInLikeEscape,
  fitsInt4,
  isPgFloatText,
  isPgTimestamptzText,
  isRfc3339Timestamp,
  parseInteger,
} from "../validation/db-values.js";
import {
  type Filter,
  type FilterOp,
  type FilterScope,
  parseDurationSeconds,
  parseFilters,
  shown,
} from "../validation/filter-grammar.js";
import { withDbErrors } from "./pg-errors.js";

/**
 * How filter values are read: text as is; int an integer (int4 or int8 column); timestamp RFC 3339; duration
 * seconds or a Go duration; bytes bytea input.
 */
export type ColumnKind = "text" | "int" | "timestamp" | "duration" | "bytes";
/** The SQL type of a sort key (cursor values are cast to it). */
export type SortType = "text" | "bigint" | "int" | "float8" | "timestamptz";

export interface ColumnSpec {
  readonly sql: string;
  readonly kind?: ColumnKind;
}

export interface SortKeySpec {
  readonly sql: string;
  readonly type: SortType;
  readonly nullable?: boolean;
}

export interface ListSpec {
  /** Names the rpc in token errors, as Flyte does. */
  readonly rpcName: string;
  /** Entity code of the listed table (t, w, l, e...). */
  readonly primary: string;
  /** Filterable columns per entity code. */
  readonly entities: Readonly<Record<string, Readonly<Record<string, ColumnSpec>>>>;
  /** Joins needed when a filter names another entity. */
  readonly joins?: Readonly<Record<string, (qb: Knex.QueryBuilder) => void>>;
  readonly sortKeys: Readonly<Record<string, SortKeySpec>>;
  readonly defaultSort: { readonly key: string; readonly direction: "asc" | "desc" };
  /** A unique column of the primary table, appended to every ORDER BY. */
  readonly tieBreaker: { readonly sql: string; readonly type: SortType };
}

export interface SortLike {
  readonly key: string;
  readonly direction: number;
}

export interface PageRequest {
  readonly filters?: string;
  readonly sortBy?: SortLike | undefined;
  /** undefined = no limit (ListProjects with limit 0). */
  readonly limit: number | undefined;
  readonly token: string;
}

export interface Page<Row> {
  readonly rows: Row[];
  readonly token: string;
}

interface Cursor {
  readonly k: string;
  readonly d: "asc" | "desc";
  readonly v: string | null;
  readonly t: string;
}

interface ResolvedSort {
  readonly key: string;
  readonly spec: SortKeySpec;
  readonly dir: "asc" | "desc";
}

export function filterScope(spec: ListSpec): FilterScope {
  const columns: Record<string, ReadonlySet<string>> = {};
  for (const [code, cols] of Object.entries(spec.entities)) columns[code] = new Set(Object.keys(cols));
  return { primary: spec.primary, columns };
}

export function resolveSort(sortBy: SortLike | undefined, spec: ListSpec): ResolvedSort {
  if (sortBy === undefined || sortBy.key === "") {
    const keySpec = spec.sortKeys[spec.defaultSort.key];
    if (keySpec === undefined) throw new Error(`list ${spec.rpcName}: default sort key missing`);
    return { key: spec.defaultSort.key, spec: keySpec, dir: spec.defaultSort.direction };
  }
  const keySpec = spec.sortKeys[sortBy.key];
  if (keySpec === undefined) throw invalidArgument(`invalid sort key '${shown(sortBy.key)}'`);
  if (sortBy.direction !== Sort_Direction.ASCENDING && sortBy.direction !== Sort_Direction.DESCENDING) {
    throw invalidArgument(`invalid sort order specified: ${sortBy.direction}`);
  }
  return {
    key: sortBy.key,
    spec: keySpec,
    dir: sortBy.direction === Sort_Direction.ASCENDING ? "asc" : "desc",
  };
}

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
function decodeToken(token: string, sort: ResolvedSort, spec: ListSpec): Cursor | number | undefined {
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
function applyKeyset(qb: Knex.QueryBuilder, c: Cursor, sort: ResolvedSort, tb: ListSpec["tieBreaker"]): void {
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

/** Orders, positions and limits the query, runs it, and returns the rows with the next token. */
export async function runPage<Row>(
  qb: Knex.QueryBuilder,
  req: PageRequest,
  spec: ListSpec,
  sort: ResolvedSort = resolveSort(req.sortBy, spec),
): Promise<Page<Row>> {
  if (req.limit !== undefined && req.limit <= 0) throw invalidArgument("invalid value for limit");
  const position = decodeToken(req.token, sort, spec);
  const knex = qb.client as unknown as { raw: Knex["raw"] };
  qb.select(
    knex.raw(`(${sort.spec.sql})::text AS __sort`),
    knex.raw(`(${spec.tieBreaker.sql})::text AS __tb`),
  );
  if (typeof position === "number") qb.offset(position);
  else if (position !== undefined) applyKeyset(qb, position, sort, spec.tieBreaker);
  qb.orderByRaw(`${sort.spec.sql} ${sort.dir}, ${spec.tieBreaker.sql} ${sort.dir}`);
  if (req.limit !== undefined) qb.limit(req.limit);
  const raw = (await withDbErrors(async () => (await qb) as Array<Record<string, unknown>>)) ?? [];
  const last = raw[raw.length - 1];
  const token =
    req.limit !== undefined && raw.length === req.limit && last !== undefined
      ? encodeToken({
          k: sort.key,
          d: sort.dir,
          v: (last.__sort as string | null) ?? null,
          t: String(last.__tb),
        })
      : "";
  const rows = raw.map(({ __sort, __tb, ...row }) => row as Row);
  return { rows, token };
}

/** The usual path: parse and apply the request's filters, then run the page. */
export function listPage<Row>(qb: Knex.QueryBuilder, req: PageRequest, spec: ListSpec): Promise<Page<Row>> {
  if (req.limit !== undefined && req.limit <= 0) throw invalidArgument("invalid value for limit");
  const sort = resolveSort(req.sortBy, spec);
  applyFilters(qb, parseFilters(req.filters ?? "", filterScope(spec)), spec);
  return runPage<Row>(qb, req, spec, sort);
}
