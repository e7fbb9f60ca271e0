// The rows an EventBatch keeps in memory: slots for node and task executions, and how a row not yet written looks
// to readers inside the transaction (the database's defaults filled in).
import type * as nodes from "../repositories/node-execution-repo.js";
import type * as tasks from "../repositories/task-execution-repo.js";

/** A node row as the batch knows it; `pending` (with `row.id` "") until the row is written. */
export interface NodeSlot {
  row: nodes.NodeExecutionRow;
  pending: boolean;
  dirty: boolean;
}

export interface TaskSlot {
  readonly executionId: string;
  readonly nodeId: string;
  row: tasks.TaskExecutionRow;
  pending: boolean;
  dirty: boolean;
}

/** How a row not yet written looks to readers inside the transaction (database defaults filled in). */
export function pendingNodeRow(r: nodes.NewNodeExecutionRow): nodes.NodeExecutionRow {
  const now = new Date();
  return {
    id: "",
    duration: 0,
    error_kind: "",
    error_code: "",
    cache_status: "",
    node_execution_updated_at: r.node_execution_created_at,
    created_at: now,
    updated_at: now,
    ...r,
  };
}

/** A new attempt's row before it is written (`id` "" and, for a new node, `node_execution_id` "" too). */
export function pendingTaskRow(
  key: tasks.TaskExecutionKey,
  changes: tasks.TaskExecutionChanges,
  createdAt: Date,
): tasks.TaskExecutionRow {
  const now = new Date();
  return {
    id: "",
    phase_version: 0,
    input_uri: "",
    started_at: null,
    task_execution_updated_at: createdAt,
    duration: 0,
    created_at: now,
    updated_at: now,
    phase: "UNDEFINED",
    closure: Buffer.alloc(0),
    ...key,
    ...changes,
    task_execution_created_at: createdAt,
  };
}
