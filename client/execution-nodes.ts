// An execution's node tree (node executions recursively under their parents, with their task attempts) and the
// log links its attempts recorded.
import type { NodeExecution } from "../gen/flyteidl/admin/node_execution_pb.js";
import type { TaskExecution } from "../gen/flyteidl/admin/task_execution_pb.js";
import type { WorkflowExecutionIdentifier } from "../gen/flyteidl/core/identifier_pb.js";
import type { SynchronousClient } from "./synchronous-client.js";

export interface NodeInfo {
  readonly node: NodeExecution;
  readonly taskExecutions: TaskExecution[];
  /** Nodes under this one (branch cases, sub-workflow and array children). */
  readonly children: NodeInfo[];
}

/** One log link of a task attempt (a TaskExecution closure's `logs` entry). */
export interface TaskLogLink {
  readonly nodeId: string;
  readonly taskName: string;
  /** 0 for the first attempt. */
  readonly attempt: number;
  /** The log's name, e.g. "stdout". */
  readonly name: string;
  readonly uri: string;
}

export async function listNodeTree(
  c: SynchronousClient,
  executionId: WorkflowExecutionIdentifier,
  parent: string,
): Promise<NodeInfo[]> {
  const out: NodeInfo[] = [];
  for await (const node of c.listNodeExecutionsAll({
    workflowExecutionId: executionId,
    uniqueParentId: parent,
  })) {
    const id = node.id?.nodeId ?? "";
    const taskExecutions: TaskExecution[] = [];
    for await (const a of c.listTaskExecutionsAll({ nodeExecutionId: node.id })) taskExecutions.push(a);
    const children = node.metadata?.isParentNode === true ? await listNodeTree(c, executionId, id) : [];
    out.push({ node, taskExecutions, children });
  }
  return out;
}

/** The log links of every attempt in the tree, or of the node whose unique or spec id is `nodeId`. */
export function taskLogLinks(nodes: readonly NodeInfo[], nodeId?: string): TaskLogLink[] {
  const out: TaskLogLink[] = [];
  const visit = (n: NodeInfo) => {
    const id = n.node.id?.nodeId ?? "";
    const matches = nodeId === undefined || id === nodeId || n.node.metadata?.specNodeId === nodeId;
    if (matches)
      for (const t of n.taskExecutions)
        for (const log of t.closure?.logs ?? [])
          out.push({
            nodeId: id,
            taskName: t.id?.taskId?.name ?? "",
            attempt: t.id?.retryAttempt ?? 0,
            name: log.name,
            uri: log.uri,
          });
    for (const child of n.children) visit(child);
  };
  for (const n of nodes) visit(n);
  return out;
}
