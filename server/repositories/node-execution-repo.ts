// SQL for node executions.
import type { Knex } from "knex";
import { listPage } from "./list-page.js";
import type { ListSpec, Page, PageRequest } from "./list-spec.js";
import { chunked, type TypedColumns, updateRowsById } from "./multi-row.js";
import { withDbErrors } from "./pg-errors.js";

export interface NodeExecutionRow {
  id: string;
  execution_id: string;
  node_id: string;
  phase: string;
  closure: Buffer;
  metadata: Buffer | null;
  input_uri: string;
  started_at: Date | null;
  node_execution_created_at: Date;
  node_execution_updated_at: Date;
  duration: number;
  parent_id: string | null;
  parent_task_execution_id: string | null;
  error_kind: string;
  error_code: string;
  cache_status: string;
  /** The compiled workflow of a dynamic node (empty for other nodes). */
  dynamic_workflow_uri: string;
  created_at: Date;
  updated_at: Date;
}

export type NodeExecutionChanges = Partial<
  Omit<NodeExecutionRow, "id" | "execution_id" | "node_id" | "created_at">
>;

const c = (sql: string, kind?: "int" | "timestamp" | "duration") =>
  kind === undefined ? { sql } : { sql, kind };

export const NODE_EXECUTION_LIST: ListSpec = {
  rpcName: "ListNodeExecutions",
  primary: "ne",
  entities: {
    ne: {
      id: c("ne.id", "int"),
      created_at: c("ne.created_at", "timestamp"),
      updated_at: c("ne.updated_at", "timestamp"),
      node_id: c("ne.node_id"),
      phase: c("ne.phase"),
      input_uri: c("ne.input_uri"),
      started_at: c("ne.started_at", "timestamp"),
      node_execution_created_at: c("ne.node_execution_created_at", "timestamp"),
      node_execution_updated_at: c("ne.node_execution_updated_at", "timestamp"),
      duration: c("ne.duration", "duration"),
      parent_id: c("ne.parent_id", "int"),
      parent_task_execution_id: c("ne.parent_task_execution_id", "int"),
      error_kind: c("ne.error_kind"),
      error_code: c("ne.error_code"),
      cache_status: c("ne.cache_status"),
    },
    e: { execution_name: c("e.execution_name"), phase: c("e.phase"), mode: c("e.mode", "int") },
  },
  joins: { e: (qb) => qb.join("executions as e", "e.id", "ne.execution_id") },
  sortKeys: {
    id: { sql: "ne.id", type: "bigint" },
    created_at: { sql: "ne.created_at", type: "timestamptz" },
    updated_at: { sql: "ne.updated_at", type: "timestamptz" },
    node_id: { sql: "ne.node_id", type: "text" },
    phase: { sql: "ne.phase", type: "text" },
    started_at: { sql: "ne.started_at", type: "timestamptz", nullable: true },
  },
  defaultSort: { key: "created_at", direction: "asc" },
  tieBreaker: { sql: "ne.id", type: "bigint" },
};

export function getNodeExecution(
  db: Knex,
  executionId: string,
  nodeId: string,
  forUpdate = false,
): Promise<NodeExecutionRow | undefined> {
  return withDbErrors(() => {
    const q = db("node_executions").where({ execution_id: executionId, node_id: nodeId }).first();
    return (forUpdate ? q.forUpdate() : q) as Promise<NodeExecutionRow | undefined>;
  });
}

export function getNodeExecutionById(db: Knex, id: string): Promise<NodeExecutionRow | undefined> {
  return withDbErrors(
    () => db("node_executions").where({ id }).first() as Promise<NodeExecutionRow | undefined>,
  );
}

export type NewNodeExecutionRow = Omit<
  NodeExecutionRow,
  | "id"
  | "created_at"
  | "updated_at"
  | "duration"
  | "error_kind"
  | "error_code"
  | "cache_status"
  | "dynamic_workflow_uri"
  | "node_execution_updated_at"
> &
  NodeExecutionChanges;

/** Inserts rows in one statement; the result keeps their order. */
export function insertNodeExecutions(
  db: Knex,
  rows: readonly NewNodeExecutionRow[],
): Promise<NodeExecutionRow[]> {
  if (rows.length === 0) return Promise.resolve([]);
  return chunked(rows, Object.keys(rows[0] ?? {}).length, (chunk) =>
    withDbErrors(
      async () => (await db("node_executions").insert(chunk).returning("*")) as NodeExecutionRow[],
    ),
  );
}

/** The columns events change, with their SQL types (multi-row updates cast their VALUES). */
export const NODE_MUTABLE: TypedColumns<NodeExecutionRow> = [
  ["phase", "text"],
  ["closure", "bytea"],
  ["metadata", "bytea"],
  ["input_uri", "text"],
  ["started_at", "timestamptz"],
  ["node_execution_updated_at", "timestamptz"],
  ["duration", "float8"],
  ["error_kind", "text"],
  ["error_code", "text"],
  ["cache_status", "text"],
  ["dynamic_workflow_uri", "text"],
];

/** Writes the event-owned columns of several rows (by id) in one statement, returning the stored rows. */
export const updateNodeExecutions = (
  db: Knex,
  rows: readonly NodeExecutionRow[],
): Promise<NodeExecutionRow[]> => updateRowsById(db, "node_executions", NODE_MUTABLE, rows);

export function nodeExecutionsOf(db: Knex, executionId: string): Promise<NodeExecutionRow[]> {
  return withDbErrors(
    () =>
      db("node_executions").where({ execution_id: executionId }).orderBy("id") as Promise<NodeExecutionRow[]>,
  );
}

export function listNodeExecutions(
  db: Knex,
  executionId: string,
  parent: { parentId?: string; parentTaskExecutionId?: string },
  req: PageRequest,
): Promise<Page<NodeExecutionRow>> {
  const qb = db("node_executions as ne").select("ne.*").where("ne.execution_id", executionId);
  if (parent.parentId !== undefined) qb.where("ne.parent_id", parent.parentId);
  else if (parent.parentTaskExecutionId !== undefined)
    qb.where("ne.parent_task_execution_id", parent.parentTaskExecutionId);
  else qb.whereNull("ne.parent_id").whereNull("ne.parent_task_execution_id");
  return listPage<NodeExecutionRow>(qb, req, NODE_EXECUTION_LIST);
}
