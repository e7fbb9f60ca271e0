// SQL for the tasks table.
import type { Knex } from "knex";
import type { ListSpec, Page, PageRequest } from "./list-spec.js";
import {
  baseColumns,
  baseSortKeys,
  type EntityKey,
  type EntityRow,
  getEntities,
  getEntity,
  insertEntity,
  listEntities,
  listEntityNames,
  type NameRow,
  type NameScope,
} from "./versioned-entity.js";

export interface TaskRow extends EntityRow {
  type: string;
  closure: Buffer;
}

export type NewTaskRow = Omit<TaskRow, "id" | "created_at" | "updated_at">;

export const TASK_LIST: ListSpec = {
  rpcName: "ListTasks",
  primary: "t",
  entities: {
    t: { ...baseColumns("t"), type: { sql: "t.type" }, closure: { sql: "t.closure", kind: "bytes" } },
  },
  sortKeys: { ...baseSortKeys("t"), type: { sql: "t.type", type: "text" } },
  defaultSort: { key: "created_at", direction: "desc" },
  tieBreaker: { sql: "t.id", type: "bigint" },
};

export const insertTask = (db: Knex, row: NewTaskRow): Promise<TaskRow> =>
  insertEntity<TaskRow>(db, "tasks", row);

export const getTask = (db: Knex, key: EntityKey): Promise<TaskRow | undefined> =>
  getEntity<TaskRow>(db, "tasks", key);

export const getTasks = (db: Knex, keys: readonly EntityKey[]): Promise<TaskRow[]> =>
  getEntities<TaskRow>(db, "tasks", keys);

export const listTasks = (db: Knex, scope: NameScope, req: PageRequest): Promise<Page<TaskRow>> =>
  listEntities<TaskRow>(db, "tasks", "t", scope, req, TASK_LIST);

export const listTaskNames = (
  db: Knex,
  scope: NameScope,
  req: Omit<PageRequest, "filters">,
): Promise<Page<NameRow>> => listEntityNames(db, "tasks", "ListUniqueTaskIdentifiers", scope, req);
