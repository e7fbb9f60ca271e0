// SQL for task executions (one row per attempt).
import type { Knex } from "knex";
import { listPage } from "./list-page.js";
import type { ListSpec, Page, PageRequest } from "./list-spec.js";
import { chunked, type TypedColumns, updateRowsById } from "./multi-row.js";
import { withDbErrors } from "./pg-errors.js";

export interface TaskExecutionRow {
  id: string;
  node_execution_id: string;
  project: string;
  domain: string;
  name: string;
  version: string;
  retry_attempt: number;
  phase: string;
  phase_version: number;
  closure: Buffer;
  input_uri: string;
  started_at: Date | null;
  task_execution_created_at: Date;
  task_execution_updated_at: Date;
  duration: number;
  created_at: Date;
  updated_at: Date;
}

export type TaskExecutionKey = Pick<
  TaskExecutionRow,
  "node_execution_id" | "project" | "domain" | "name" | "version" | "retry_attempt"
>;
export type TaskExecutionChanges = Partial<Omit<TaskExecutionRow, "id" | "node_execution_id" | "created_at">>;

const c = (sql: string, kind?: "int" | "timestamp" | "duration") =>
  kind === undefined ? { sql } : { sql, kind };

export const TASK_EXECUTION_LIST: ListSpec = {
  rpcName: "ListTaskExecutions",
  primary: "te",
  entities: {
    te: {
      id: c("te.id", "int"),
      created_at: c("te.created_at", "timestamp"),
      updated_at: c("te.updated_at", "timestamp"),
      project: c("te.project"),
      domain: c("te.domain"),
      name: c("te.name"),
      version: c("te.version"),
      retry_attempt: c("te.retry_attempt", "int"),
      phase: c("te.phase"),
      phase_version: c("te.phase_version", "int"),
      input_uri: c("te.input_uri"),
      started_at: c("te.started_at", "timestamp"),
      task_execution_created_at: c("te.task_execution_created_at", "timestamp"),
      task_execution_updated_at: c("te.task_execution_updated_at", "timestamp"),
      duration: c("te.duration", "duration"),
    },
  },
  sortKeys: {
    id: { sql: "te.id", type: "bigint" },
    created_at: { sql: "te.created_at", type: "timestamptz" },
    updated_at: { sql: "te.updated_at", type: "timestamptz" },
    retry_attempt: { sql: "te.retry_attempt", type: "int" },
    phase: { sql: "te.phase", type: "text" },
  },
  defaultSort: { key: "created_at", direction: "asc" },
  tieBreaker: { sql: "te.id", type: "bigint" },
};

export function getTaskExecution(
  db: Knex,
  key: TaskExecutionKey,
  forUpdate = false,
): Promise<TaskExecutionRow | undefined> {
  return withDbErrors(() => {
    const q = db("task_executions").where(key).first();
    return (forUpdate ? q.forUpdate() : q) as Promise<TaskExecutionRow | undefined>;
  });
}

export type NewTaskExecutionRow = TaskExecutionKey & TaskExecutionChanges & { closure: Buffer };

/** Every attempt of one node execution. */
export function taskExecutionsOf(db: Knex, nodeExecutionId: string): Promise<TaskExecutionRow[]> {
  return withDbErrors(
    () =>
      db("task_executions").where({ node_execution_id: nodeExecutionId }).orderBy("id") as Promise<
        TaskExecutionRow[]
      >,
  );
}

/** Inserts rows in one statement; the result keeps their order. */
export function insertTaskExecutions(
  db: Knex,
  rows: readonly NewTaskExecutionRow[],
): Promise<TaskExecutionRow[]> {
  if (rows.length === 0) return Promise.resolve([]);
  return chunked(rows, Object.keys(rows[0] ?? {}).length, (chunk) =>
    withDbErrors(
      async () => (await db("task_executions").insert(chunk).returning("*")) as TaskExecutionRow[],
    ),
  );
}

/** The columns events change, with their SQL types (multi-row updates cast their VALUES). */
export const TASK_MUTABLE: TypedColumns<TaskExecutionRow> = [
  ["phase", "text"],
  ["phase_version", "int"],
  ["closure", "bytea"],
  ["input_uri", "text"],
  ["started_at", "timestamptz"],
  ["task_execution_updated_at", "timestamptz"],
  ["duration", "float8"],
];

/** Writes the event-owned columns of several rows (by id) in one statement, returning the stored rows. */
export const updateTaskExecutions = (
  db: Knex,
  rows: readonly TaskExecutionRow[],
): Promise<TaskExecutionRow[]> => updateRowsById(db, "task_executions", TASK_MUTABLE, rows);

export function listTaskExecutions(
  db: Knex,
  nodeExecutionId: string,
  req: PageRequest,
): Promise<Page<TaskExecutionRow>> {
  const qb = db("task_executions as te").select("te.*").where("te.node_execution_id", nodeExecutionId);
  return listPage<TaskExecutionRow>(qb, req, TASK_EXECUTION_LIST);
}
