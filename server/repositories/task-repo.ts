// SQL for the tasks table.
import type { Knex } from "knex";
import type { ListSpec, Page, PageRequest } from "./list-page.js";
import { withDbErrors } from "./pg-errors.js";
import {
  baseColumns,
  baseSortKeys,
  type EntityKey,
  type EntityRow,
  getEntity,
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

export function insertTask(db: Knex, row: NewTaskRow): Promise<TaskRow> {
  return withDbErrors(async () => {
    const [inserted] = (await db("tasks").insert(row).returning("*")) as TaskRow[];
    return inserted as TaskRow;
  });
}

export const getTask = (db: Knex, key: EntityKey): Promise<TaskRow | undefined> =>
  getEntity<TaskRow>(db, "tasks", key);

export function getTasks(db: Knex, keys: readonly EntityKey[]): Promise<TaskRow[]> {
  if (keys.length === 0) return Promise.resolve([]);
  return withDbErrors(async () => {
    const tuples = keys.map((k) => [k.project, k.domain, k.name, k.version]);
    return (await db("tasks").whereIn(["project", "domain", "name", "version"], tuples)) as TaskRow[];
  });
}

export const listTasks = (db: Knex, scope: NameScope, req: PageRequest): Promise<Page<TaskRow>> =>
  listEntities<TaskRow>(db, "tasks", "t", scope, req, TASK_LIST);

export const listTaskNames = (
  db: Knex,
  scope: NameScope,
  req: Omit<PageRequest, "filters">,
): Promise<Page<NameRow>> => listEntityNames(db, "tasks", "ListUniqueTaskIdentifiers", scope, req);
