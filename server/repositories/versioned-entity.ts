// What tasks, workflows and launch plans share: identity columns, listing specs, and the distinct-name lists.
import type { Knex } from "knex";
import { listPage } from "./list-page.js";
import type { ColumnSpec, ListSpec, Page, PageRequest, SortKeySpec } from "./list-spec.js";
import { withDbErrors } from "./pg-errors.js";

export interface EntityKey {
  readonly project: string;
  readonly domain: string;
  readonly name: string;
  readonly version: string;
}

export interface EntityRow extends EntityKey {
  id: string;
  digest: string;
  short_description: string;
  created_at: Date;
  updated_at: Date;
}

export interface NameScope {
  readonly project: string;
  readonly domain: string;
  readonly name?: string;
}

/** Columns every entity table has, as filters see them (with SQL under the given alias). */
export function baseColumns(alias: string): Record<string, ColumnSpec> {
  return {
    id: { sql: `${alias}.id`, kind: "int" },
    created_at: { sql: `${alias}.created_at`, kind: "timestamp" },
    updated_at: { sql: `${alias}.updated_at`, kind: "timestamp" },
    project: { sql: `${alias}.project` },
    domain: { sql: `${alias}.domain` },
    name: { sql: `${alias}.name` },
    version: { sql: `${alias}.version` },
    digest: { sql: `${alias}.digest` },
    short_description: { sql: `${alias}.short_description` },
  };
}

export function baseSortKeys(alias: string): Record<string, SortKeySpec> {
  return {
    id: { sql: `${alias}.id`, type: "bigint" },
    created_at: { sql: `${alias}.created_at`, type: "timestamptz" },
    updated_at: { sql: `${alias}.updated_at`, type: "timestamptz" },
    project: { sql: `${alias}.project`, type: "text" },
    domain: { sql: `${alias}.domain`, type: "text" },
    name: { sql: `${alias}.name`, type: "text" },
    version: { sql: `${alias}.version`, type: "text" },
  };
}

export function getEntity<Row>(db: Knex, table: string, key: EntityKey): Promise<Row | undefined> {
  const { project, domain, name, version } = key;
  return withDbErrors(
    () => db(table).where({ project, domain, name, version }).first() as Promise<Row | undefined>,
  );
}

export function insertEntity<Row>(db: Knex, table: string, row: object): Promise<Row> {
  return withDbErrors(async () => {
    const [inserted] = (await db(table).insert(row).returning("*")) as Row[];
    return inserted as Row;
  });
}

/** Several exact versions at once (the registered entities a workflow references). */
export function getEntities<Row>(db: Knex, table: string, keys: readonly EntityKey[]): Promise<Row[]> {
  if (keys.length === 0) return Promise.resolve([]);
  return withDbErrors(async () => {
    const tuples = keys.map((k) => [k.project, k.domain, k.name, k.version]);
    return (await db(table).whereIn(["project", "domain", "name", "version"], tuples)) as Row[];
  });
}

/** Every version of the named entities in a project/domain (and name, when given). */
export function listEntities<Row>(
  db: Knex,
  table: string,
  alias: string,
  scope: NameScope,
  req: PageRequest,
  spec: ListSpec,
  extra?: (qb: Knex.QueryBuilder) => void,
): Promise<Page<Row>> {
  const qb = db(`${table} as ${alias}`)
    .select(`${alias}.*`)
    .where(`${alias}.project`, scope.project)
    .where(`${alias}.domain`, scope.domain);
  if (scope.name !== undefined && scope.name !== "") qb.where(`${alias}.name`, scope.name);
  extra?.(qb);
  return listPage<Row>(qb, req, spec);
}

export interface NameRow {
  project: string;
  domain: string;
  name: string;
}

/** Distinct names (ListTaskIds / ListWorkflowIds / ListLaunchPlanIds). Flyte ignores filters here. */
export function listEntityNames(
  db: Knex,
  table: string,
  rpcName: string,
  scope: NameScope,
  req: Omit<PageRequest, "filters">,
): Promise<Page<NameRow>> {
  const spec: ListSpec = {
    rpcName,
    primary: "x",
    entities: { x: {} },
    sortKeys: {
      name: { sql: "x.name", type: "text" },
      project: { sql: "x.project", type: "text" },
      domain: { sql: "x.domain", type: "text" },
    },
    defaultSort: { key: "name", direction: "asc" },
    tieBreaker: { sql: "x.name", type: "text" },
  };
  const qb = db(`${table} as x`)
    .select("x.project", "x.domain", "x.name")
    .where("x.project", scope.project)
    .where("x.domain", scope.domain)
    .groupBy("x.project", "x.domain", "x.name");
  return listPage<NameRow>(qb, { ...req, filters: "" }, spec);
}
