// One page of any list: Flyte filters and sort keys turned into SQL, and keyset pagination.
//
// Tokens are opaque keyset cursors (base64url JSON of the sort key, direction, and the last row's sort value and
// tie-breaker), so page N costs what page 1 costs and rows inserted while a client pages never make it skip or
// repeat an item. A purely numeric token (what FlyteAdmin and old clients send: a row offset) is still accepted.
// Every query selects the sort value and tie-breaker under the reserved aliases `__sort` and `__tb`, which are
// stripped from the rows returned.
import type { Knex } from "knex";
import { Sort_Direction } from "../../gen/flyteidl/admin/common_pb.js";
import { invalidArgument } from "../errors.js";
import {
  type Filter,
  type FilterScope,
  parseDurationSeconds,
  parseFilters,
} from "../validation/filter-grammar.js";
import { withDbErrors } from "./pg-errors.js";

export type ColumnKind = "text" | "int" | "timestamp" | "duration" | "bytes";
export type SortType = "text" | "bigint" | "int" | "timestamptz";

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
  if (keySpec === undefined) throw invalidArgument(`invalid sort key '${sortBy.key}'`);
  if (sortBy.direction !== Sort_Direction.ASCENDING && sortBy.direction !== Sort_Direction.DESCENDING) {
    throw invalidArgument(`invalid sort order specified: ${sortBy.direction}`);
  }
  return {
    key: sortBy.key,
    spec: keySpec,
    dir: sortBy.direction === Sort_Direction.ASCENDING ? "asc" : "desc",
  };
}

function filterValue(value: string, kind: ColumnKind): string | number {
  switch (kind) {
    case "int":
      if (!/^-?\d+$/.test(value.trim()))
        throw invalidArgument(`invalid value for filters: '${value}' is not an integer`);
      return Number.parseInt(value, 10);
    case "timestamp":
      if (Number.isNaN(Date.parse(value)))
        throw invalidArgument(`invalid value for filters: '${value}' is not a timestamp`);
      return value;
    case "duration":
      return parseDurationSeconds(value);
    case "text":
    case "bytes":
      return value;
  }
}

const SQL_OPS: Readonly<Record<string, string>> = {
  eq: "=",
  ne: "<>",
  gt: ">",
  gte: ">=",
  lt: "<",
  lte: "<=",
};

function castOf(kind: ColumnKind): string {
  return kind === "timestamp" ? "::timestamptz" : "";
}

/** Adds the parsed filters to the query; joins other entities when a filter names them. */
export function applyFilters(qb: Knex.QueryBuilder, filters: readonly Filter[], spec: ListSpec): void {
  const joined = new Set<string>();
  for (const f of filters) {
    const col = spec.entities[f.entity]?.[f.column];
    if (col === undefined) throw invalidArgument(`'${f.entity}.${f.column}' is invalid filter`);
    if (f.entity !== spec.primary && !joined.has(f.entity)) {
      spec.joins?.[f.entity]?.(qb);
      joined.add(f.entity);
    }
    const kind = col.kind ?? "text";
    const values = f.values.map((v) => filterValue(v, kind));
    const cast = castOf(kind);
    switch (f.op) {
      case "contains":
        qb.whereRaw(`${col.sql} LIKE ?`, [`%${f.values[0] ?? ""}%`]);
        break;
      case "not_like":
        qb.whereRaw(`${col.sql} NOT LIKE ?`, [f.values[0] ?? ""]);
        break;
      case "value_in":
      case "value_not_in": {
        const marks = values.map(() => `?${cast}`).join(", ");
        qb.whereRaw(`${col.sql} ${f.op === "value_in" ? "IN" : "NOT IN"} (${marks})`, values);
        break;
      }
      default:
        qb.whereRaw(`${col.sql} ${SQL_OPS[f.op]} ?${cast}`, [values[0] ?? ""]);
    }
  }
}

function decodeToken(token: string, sort: ResolvedSort, rpcName: string): Cursor | number | undefined {
  if (token === "") return undefined;
  if (/^\d+$/.test(token)) return Number.parseInt(token, 10);
  const bad = () => invalidArgument(`invalid pagination token ${token} for ${rpcName}`);
  let cursor: Cursor;
  try {
    cursor = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Cursor;
  } catch {
    throw bad();
  }
  if (typeof cursor !== "object" || cursor === null || cursor.k !== sort.key || cursor.d !== sort.dir)
    throw bad();
  if (typeof cursor.t !== "string" || (cursor.v !== null && typeof cursor.v !== "string")) throw bad();
  return cursor;
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
  const position = decodeToken(req.token, sort, spec.rpcName);
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
