// SQL for description entities (long-form docs stored with tasks and workflows).
import type { Knex } from "knex";
import { listPage } from "./list-page.js";
import type { ListSpec, Page, PageRequest } from "./list-spec.js";
import { withDbErrors } from "./pg-errors.js";
import { baseColumns, baseSortKeys, type EntityKey } from "./versioned-entity.js";

export interface DescriptionEntityRow extends EntityKey {
  id: string;
  resource_type: number;
  short_description: string;
  long_description: Buffer | null;
  source_code: Buffer | null;
  created_at: Date;
  updated_at: Date;
}

export type NewDescriptionEntityRow = Omit<DescriptionEntityRow, "id" | "created_at" | "updated_at">;

const columns = baseColumns("d");
delete columns.digest;

export const DESCRIPTION_ENTITY_LIST: ListSpec = {
  rpcName: "ListWorkflows",
  primary: "d",
  entities: { d: columns },
  sortKeys: baseSortKeys("d"),
  defaultSort: { key: "created_at", direction: "desc" },
  tieBreaker: { sql: "d.id", type: "bigint" },
};

/** Stores the description once per id; a re-registration keeps the first one. */
export function insertDescriptionEntity(db: Knex, row: NewDescriptionEntityRow): Promise<void> {
  return withDbErrors(async () => {
    await db("description_entities")
      .insert(row)
      .onConflict(["resource_type", "project", "domain", "name", "version"])
      .ignore();
  });
}

export function getDescriptionEntity(
  db: Knex,
  resourceType: number,
  key: EntityKey,
): Promise<DescriptionEntityRow | undefined> {
  const { project, domain, name, version } = key;
  return withDbErrors(
    () =>
      db("description_entities")
        .where({ resource_type: resourceType, project, domain, name, version })
        .first() as Promise<DescriptionEntityRow | undefined>,
  );
}

export function listDescriptionEntities(
  db: Knex,
  resourceType: number,
  scope: { project: string; domain: string; name: string },
  req: PageRequest,
): Promise<Page<DescriptionEntityRow>> {
  const qb = db("description_entities as d").select("d.*").where({
    "d.resource_type": resourceType,
    "d.project": scope.project,
    "d.domain": scope.domain,
    "d.name": scope.name,
  });
  return listPage<DescriptionEntityRow>(qb, req, DESCRIPTION_ENTITY_LIST);
}
