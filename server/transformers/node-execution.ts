// Node and task execution rows -> admin messages.
import { create, fromBinary } from "@bufbuild/protobuf";
import {
  type NodeExecution,
  NodeExecutionClosureSchema,
  NodeExecutionMetaDataSchema,
  NodeExecutionSchema,
} from "../../gen/flyteidl/admin/node_execution_pb.js";
import {
  type TaskExecution,
  TaskExecutionClosureSchema,
  TaskExecutionSchema,
} from "../../gen/flyteidl/admin/task_execution_pb.js";
import { NodeExecution_Phase, TaskExecution_Phase } from "../../gen/flyteidl/core/execution_pb.js";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";
import type { TaskExecutionRow } from "../repositories/task-execution-repo.js";
import { executionId } from "./execution.js";

export const nodePhase = (name: string): NodeExecution_Phase =>
  (NodeExecution_Phase as unknown as Record<string, number>)[name] ?? NodeExecution_Phase.UNDEFINED;
export const taskPhase = (name: string): TaskExecution_Phase =>
  (TaskExecution_Phase as unknown as Record<string, number>)[name] ?? TaskExecution_Phase.UNDEFINED;

export function toNodeExecution(exec: ExecutionRow, row: NodeExecutionRow): NodeExecution {
  const closure = fromBinary(NodeExecutionClosureSchema, row.closure);
  closure.phase = nodePhase(row.phase);
  return create(NodeExecutionSchema, {
    id: { nodeId: row.node_id, executionId: executionId(exec) },
    inputUri: row.input_uri,
    closure,
    ...(row.metadata === null ? {} : { metadata: fromBinary(NodeExecutionMetaDataSchema, row.metadata) }),
  });
}

export function toTaskExecution(exec: ExecutionRow, nodeId: string, row: TaskExecutionRow): TaskExecution {
  const closure = fromBinary(TaskExecutionClosureSchema, row.closure);
  closure.phase = taskPhase(row.phase);
  return create(TaskExecutionSchema, {
    id: {
      taskId: {
        resourceType: ResourceType.TASK,
        project: row.project,
        domain: row.domain,
        name: row.name,
        version: row.version,
      },
      nodeExecutionId: { nodeId, executionId: executionId(exec) },
      retryAttempt: row.retry_attempt,
    },
    inputUri: row.input_uri,
    closure,
  });
}
