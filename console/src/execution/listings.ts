// The list rpcs this page follows to their end: a parent node's children and a node's task attempts.
import type { NodeExecution } from "../../../gen/flyteidl/admin/node_execution_pb.js";
import type { TaskExecution } from "../../../gen/flyteidl/admin/task_execution_pb.js";
import type { WorkflowExecutionIdentifier } from "../../../gen/flyteidl/core/identifier_pb.js";
import { admin } from "../api";

const PAGE = 500;

/** Every node execution under `parentId` (ListNodeExecutions with `unique_parent_id`). */
export async function listChildren(
  workflowExecutionId: WorkflowExecutionIdentifier,
  parentId: string,
  signal: AbortSignal,
): Promise<NodeExecution[]> {
  const all: NodeExecution[] = [];
  let token = "";
  do {
    const page = await admin.listNodeExecutions(
      { workflowExecutionId, uniqueParentId: parentId, limit: PAGE, token },
      { signal },
    );
    all.push(...page.nodeExecutions);
    token = page.token;
  } while (token !== "");
  return all;
}

/** Every task attempt of a node execution. */
export async function listAttempts(
  executionId: WorkflowExecutionIdentifier,
  nodeId: string,
  signal: AbortSignal,
): Promise<TaskExecution[]> {
  const all: TaskExecution[] = [];
  let token = "";
  do {
    const page = await admin.listTaskExecutions(
      { nodeExecutionId: { nodeId, executionId }, limit: PAGE, token },
      { signal },
    );
    all.push(...page.taskExecutions);
    token = page.token;
  } while (token !== "");
  return all;
}
