// An execution with all its node executions and task attempts, read in one statement (one snapshot): what a
// watch stream compares with what it already sent. Child rows travel as JSON arrays (bigint ids as text, bytea as
// hex, timestamps as ISO text) and are turned back into the row types the other repositories return.
import type { Knex } from "knex";
import type { ExecutionKey, ExecutionRow } from "./execution-repo.js";
import type { NodeExecutionRow } from "./node-execution-repo.js";
import { withDbErrors } from "./pg-errors.js";
import type { TaskExecutionRow } from "./task-execution-repo.js";

export interface ExecutionState {
  readonly exec: ExecutionRow;
  /** In creation (id) order. */
  readonly nodes: NodeExecutionRow[];
  /** In creation (id) order. */
  readonly tasks: TaskExecutionRow[];
}

const STATE_SQL = (where: string) => `
  SELECT e.*,
    (SELECT coalesce(jsonb_agg(to_jsonb(n) || jsonb_build_object(
              'id', n.id::text, 'execution_id', n.execution_id::text, 'parent_id', n.parent_id::text,
              'parent_task_execution_id', n.parent_task_execution_id::text) ORDER BY n.id), '[]')
       FROM node_executions n WHERE n.execution_id = e.id) AS node_rows,
    (SELECT coalesce(jsonb_agg(to_jsonb(t) || jsonb_build_object(
              'id', t.id::text, 'node_execution_id', t.node_execution_id::text) ORDER BY t.id), '[]')
       FROM task_executions t JOIN node_executions n ON n.id = t.node_execution_id
      WHERE n.execution_id = e.id) AS task_rows
  FROM executions e WHERE ${where}`;
const BY_ID = STATE_SQL("e.id = ?");
const BY_KEY = STATE_SQL("e.execution_project = ? AND e.execution_domain = ? AND e.execution_name = ?");

const NODE_BYTES = ["closure", "metadata"] as const;
const NODE_DATES = [
  "started_at",
  "node_execution_created_at",
  "node_execution_updated_at",
  "created_at",
  "updated_at",
] as const;
const TASK_BYTES = ["closure"] as const;
const TASK_DATES = [
  "started_at",
  "task_execution_created_at",
  "task_execution_updated_at",
  "created_at",
  "updated_at",
] as const;

/** A row from its JSON form: `\x…` hex strings become Buffers and ISO timestamps Dates (nulls stay null). */
function fromJson<T>(o: Record<string, unknown>, bytes: readonly string[], dates: readonly string[]): T {
  for (const k of bytes) {
    const v = o[k];
    if (typeof v === "string") o[k] = Buffer.from(v.slice(2), "hex");
  }
  for (const k of dates) {
    const v = o[k];
    if (typeof v === "string") o[k] = new Date(v);
  }
  return o as T;
}

type StateRow = ExecutionRow & { node_rows: Record<string, unknown>[]; task_rows: Record<string, unknown>[] };

export function loadExecutionState(
  db: Knex,
  at: { readonly id: string } | ExecutionKey,
): Promise<ExecutionState | undefined> {
  const [sql, bindings] = "id" in at ? [BY_ID, [at.id]] : [BY_KEY, [at.project, at.domain, at.name]];
  return withDbErrors(async () => {
    const r = (await db.raw(sql, bindings)) as { rows: StateRow[] };
    const row = r.rows[0];
    if (row === undefined) return undefined;
    const { node_rows, task_rows, ...exec } = row;
    return {
      exec,
      nodes: node_rows.map((n) => fromJson<NodeExecutionRow>(n, NODE_BYTES, NODE_DATES)),
      tasks: task_rows.map((t) => fromJson<TaskExecutionRow>(t, TASK_BYTES, TASK_DATES)),
    };
  });
}
