// Named entities: the distinct names of tasks, workflows or launch plans, with their metadata row (if any).
import type { Knex } from "knex";
import { listPage } from "./list-page.js";
import type { ListSpec, Page, PageRequest } from "./list-spec.js";
import { withDbErrors } from "./pg-errors.js";

export const ENTITY_TABLES: Readonly<Record<number, string>> = {
  1: "tasks",
  2: "workflows",
  3: "launch_plans",
};

export interface NamedEntityRow {
  project: string;
  domain: string;
  name: string;
  description: string;
  state: number;
}

export interface NamedEntityKey {
  readonly resourceType: number;
  readonly project: string;
  readonly domain: string;
  readonly name: string;
}

const STATE = "COALESCE(m.state, 0)";
const DESCRIPTION = "COALESCE(m.description, '')";

const LIST: ListSpec = {
  rpcName: "ListNamedEntities",
  primary: "nen",
  entities: {
    nen: {
      project: { sql: "e.project" },
      domain: { sql: "e.domain" },
      name: { sql: "e.name" },
      state: { sql: STATE, kind: "int" },
      description: { sql: DESCRIPTION },
    },
    nem: { state: { sql: STATE, kind: "int" }, description: { sql: DESCRIPTION } },
  },
  sortKeys: {
    name: { sql: "e.name", type: "text" },
    project: { sql: "e.project", type: "text" },
    domain: { sql: "e.domain", type: "text" },
  },
  defaultSort: { key: "name", direction: "asc" },
  tieBreaker: { sql: "e.name", type: "text" },
};

function withMetadata(db: Knex, resourceType: number, names: Knex.QueryBuilder): Knex.QueryBuilder {
  return db
    .from(names.as("e"))
    .leftJoin("named_entity_metadata as m", (j) => {
      j.on("m.project", "e.project").andOn("m.domain", "e.domain").andOn("m.name", "e.name");
      j.andOnVal("m.resource_type", resourceType);
    })
    .select(
      "e.project",
      "e.domain",
      "e.name",
      db.raw(`${DESCRIPTION} AS description`),
      db.raw(`${STATE} AS state`),
    );
}

export function listNamedEntities(
  db: Knex,
  resourceType: number,
  scope: { project: string; domain: string },
  req: PageRequest,
): Promise<Page<NamedEntityRow>> {
  const table = ENTITY_TABLES[resourceType] ?? "tasks";
  const names = db(table)
    .distinct("project", "domain", "name")
    .where({ project: scope.project, domain: scope.domain });
  const qb = withMetadata(db, resourceType, names);
  if ((req.filters ?? "").trim() === "") qb.whereRaw("e.name NOT LIKE '.flytegen%'");
  return listPage<NamedEntityRow>(qb, req, LIST);
}

export function getNamedEntity(db: Knex, key: NamedEntityKey): Promise<NamedEntityRow | undefined> {
  const table = ENTITY_TABLES[key.resourceType] ?? "tasks";
  const names = db(table)
    .distinct("project", "domain", "name")
    .where({ project: key.project, domain: key.domain, name: key.name });
  return withDbErrors(
    async () => (await withMetadata(db, key.resourceType, names).first()) as NamedEntityRow | undefined,
  );
}

export function upsertNamedEntityMetadata(
  db: Knex,
  key: NamedEntityKey,
  description: string,
  state: number,
): Promise<void> {
  return withDbErrors(async () => {
    await db("named_entity_metadata")
      .insert({
        resource_type: key.resourceType,
        project: key.project,
        domain: key.domain,
        name: key.name,
        description,
        state,
      })
      .onConflict(["resource_type", "project", "domain", "name"])
      .merge({ description, state, updated_at: db.fn.now() });
  });
}
