// One page of any list: the request's filters applied (list-filters.ts), the page positioned by its token
// (page-token.ts), ordered by the sort key and a tie-breaker, and the next token issued.
//
// Every query selects the sort value and tie-breaker under the reserved aliases `__sort` and `__tb`, which are
// stripped from the rows returned. Filter values and tokens are checked against the column types before any SQL
// runs, so a bad one is an INVALID_ARGUMENT naming it, never a database error.
//
// A page without filters runs as a named prepared statement (see prepared.ts): its text depends only on the sort, the
// token's kind and the scope, so each connection holds a handful of them, and Postgres neither parses nor plans a
// console's or client's repeated first pages again.
import type { Knex } from "knex";
import { invalidArgument } from "../errors.js";
import { parseFilters } from "../validation/filter-grammar.js";
import { applyFilters } from "./list-filters.js";
import {
  filterScope,
  type ListSpec,
  type Page,
  type PageRequest,
  type ResolvedSort,
  resolveSort,
} from "./list-spec.js";
import { applyKeyset, decodeToken, encodeToken } from "./page-token.js";
import { withDbErrors } from "./pg-errors.js";
import { prepared } from "./prepared.js";

/** Orders, positions and limits the query, runs it, and returns the rows with the next token. */
export async function runPage<Row>(
  qb: Knex.QueryBuilder,
  req: PageRequest,
  spec: ListSpec,
  sort: ResolvedSort = resolveSort(req.sortBy, spec),
  prepare = false,
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
  const run = async (): Promise<Array<Record<string, unknown>>> => {
    if (!prepare) return (await qb) as Array<Record<string, unknown>>;
    const { sql, bindings } = qb.toSQL();
    return ((await prepared(knex, sql, bindings)) as { rows: Array<Record<string, unknown>> }).rows;
  };
  const raw = (await withDbErrors(run)) ?? [];
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
  const filters = parseFilters(req.filters ?? "", filterScope(spec));
  applyFilters(qb, filters, spec);
  return runPage<Row>(qb, req, spec, sort, filters.length === 0);
}
