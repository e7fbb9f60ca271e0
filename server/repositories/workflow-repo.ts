// SQL for the workflows table. The compiled closure is stored whole; the typed interface separately, so lists
// never decode closures.
import type { Knex } from "knex";
import type { ListSpec, Page, PageRequest } from "./list-spec.js";
import { withDbErrors } from "./pg-errors.js";
import {
  baseColumns,
  baseSortKeys,
  type EntityKey,
  type EntityRow,
  getEntity,
  insertEntity,
  listEntities,
  listEntityNames,
  type NameRow,
  type NameScope,
} from "./versioned-entity.js";

export interface WorkflowRow extends EntityRow {
  typed_interface: Buffer;
  closure: Buffer;
}

export type NewWorkflowRow = Omit<WorkflowRow, "id" | "created_at" | "updated_at">;

export const WORKFLOW_LIST: ListSpec = {
  rpcName: "ListWorkflows",
  primary: "w",
  entities: { w: { ...baseColumns("w"), typed_interface: { sql: "w.typed_interface", kind: "bytes" } } },
  sortKeys: baseSortKeys("w"),
  defaultSort: { key: "created_at", direction: "desc" },
  tieBreaker: { sql: "w.id", type: "bigint" },
};

export const insertWorkflow = (db: Knex, row: NewWorkflowRow): Promise<WorkflowRow> =>
  insertEntity<WorkflowRow>(db, "workflows", row);

export const getWorkflow = (db: Knex, key: EntityKey): Promise<WorkflowRow | undefined> =>
  getEntity<WorkflowRow>(db, "workflows", key);

/** The identifier columns of a workflow row, by row id. */
export function getWorkflowKey(db: Knex, id: string): Promise<EntityKey | undefined> {
  return withDbErrors(
    () =>
      db("workflows").select("project", "domain", "name", "version").where({ id }).first() as Promise<
        EntityKey | undefined
      >,
  );
}

export function listWorkflows(db: Knex, scope: NameScope, req: PageRequest): Promise<Page<WorkflowRow>> {
  const cols = [
    "id",
    "project",
    "domain",
    "name",
    "version",
    "typed_interface",
    "digest",
    "short_description",
    "created_at",
    "updated_at",
  ];
  return listEntities<WorkflowRow>(db, "workflows", "w", scope, req, WORKFLOW_LIST, (qb) => {
    qb.clearSelect().select(cols.map((c) => `w.${c}`));
  });
}

export const listWorkflowNames = (
  db: Knex,
  scope: NameScope,
  req: Omit<PageRequest, "filters">,
): Promise<Page<NameRow>> => listEntityNames(db, "workflows", "ListWorkflowIdentifiers", scope, req);
