// What a list is made of: the columns a filter may name, the sort keys, and the request and page shapes every list
// shares; and how a request's sort and filter scope are read against that spec.
import type { Knex } from "knex";
import { Sort_Direction } from "../../gen/flyteidl/admin/common_pb.js";
import { invalidArgument } from "../errors.js";
import { type FilterScope, shown } from "../validation/filter-grammar.js";

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

/** A request's sort, checked against the spec: the key, its column and the direction. */
export interface ResolvedSort {
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
