// What a node event carries besides its phase, where a node execution sits, and the event built from them (recorded
// by engine-context.ts).
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { CatalogCacheStatus } from "../../gen/flyteidl/core/catalog_pb.js";
import type { ExecutionError, NodeExecution_Phase } from "../../gen/flyteidl/core/execution_pb.js";
import type { Identifier, WorkflowExecutionIdentifier } from "../../gen/flyteidl/core/identifier_pb.js";
import type { LiteralMap } from "../../gen/flyteidl/core/literals_pb.js";
import type { DynamicWorkflowNodeMetadata } from "../../gen/flyteidl/event/event_pb.js";
import { type NodeExecutionEvent, NodeExecutionEventSchema } from "../../gen/flyteidl/event/event_pb.js";

/** Where a node execution sits: under a parent node, and which template node it runs (when its id differs). */
export interface Placement {
  readonly parentNodeId?: string;
  readonly specNodeId?: string;
  readonly inDynamicChain?: boolean;
  readonly retryGroup?: string;
  readonly parentTask?: ParentTask;
}

/** The task attempt that produced a dynamic node's workflow. */
export interface ParentTask {
  readonly taskId: Identifier;
  readonly nodeId: string;
  readonly attempt: number;
}

/** What a node event carries besides its phase (see nodeEvent). */
export interface NodeEventExtra {
  readonly inputs?: LiteralMap;
  readonly outputs?: LiteralMap;
  /** Outputs already stored at this URI (a task attempt's outputs.pb), instead of `outputs`. */
  readonly outputUri?: string;
  readonly error?: ExecutionError;
  readonly parentNodeId?: string;
  readonly specNodeId?: string;
  readonly cacheStatus?: CatalogCacheStatus;
  readonly isParent?: boolean;
  readonly isDynamic?: boolean;
  readonly isArray?: boolean;
  /** The node runs under a dynamic node (at any depth). */
  readonly inDynamicChain?: boolean;
  readonly retryGroup?: string;
  readonly deckUri?: string;
  readonly checkpointUri?: string;
  readonly dynamicWorkflow?: DynamicWorkflowNodeMetadata;
  /** The task attempt whose dynamic workflow this node belongs to (ListNodeExecutionsForTask). */
  readonly parentTask?: ParentTask;
  readonly childExecution?: { project: string; domain: string; name: string };
}

/** The node event the engine records for `phase` of node `nodeId` of `execution`. */
export function nodeExecutionEvent(
  execution: WorkflowExecutionIdentifier,
  nodeId: string,
  phase: NodeExecution_Phase,
  extra: NodeEventExtra,
): NodeExecutionEvent {
  const taskMeta =
    extra.cacheStatus !== undefined ||
    extra.checkpointUri !== undefined ||
    extra.dynamicWorkflow !== undefined;
  return create(NodeExecutionEventSchema, {
    id: { nodeId, executionId: execution },
    phase,
    occurredAt: timestampNow(),
    specNodeId: extra.specNodeId ?? "",
    isParent: extra.isParent === true,
    isDynamic: extra.isDynamic === true,
    isArray: extra.isArray === true,
    isInDynamicChain: extra.inDynamicChain === true,
    deckUri: extra.deckUri ?? "",
    retryGroup: extra.retryGroup ?? "",
    ...(extra.childExecution !== undefined
      ? { targetMetadata: { case: "workflowNodeMetadata", value: { executionId: extra.childExecution } } }
      : {}),
    ...(taskMeta
      ? {
          targetMetadata: {
            case: "taskNodeMetadata",
            value: {
              ...(extra.cacheStatus !== undefined ? { cacheStatus: extra.cacheStatus } : {}),
              checkpointUri: extra.checkpointUri ?? "",
              ...(extra.dynamicWorkflow !== undefined ? { dynamicWorkflow: extra.dynamicWorkflow } : {}),
            },
          },
        }
      : {}),
    ...(extra.parentNodeId !== undefined ? { parentNodeMetadata: { nodeId: extra.parentNodeId } } : {}),
    ...(extra.parentTask !== undefined
      ? {
          parentTaskMetadata: {
            id: {
              taskId: extra.parentTask.taskId,
              nodeExecutionId: { nodeId: extra.parentTask.nodeId, executionId: execution },
              retryAttempt: extra.parentTask.attempt,
            },
          },
        }
      : {}),
    ...(extra.inputs !== undefined ? { inputValue: { case: "inputData", value: extra.inputs } } : {}),
    ...(extra.outputs !== undefined ? { outputResult: { case: "outputData", value: extra.outputs } } : {}),
    ...(extra.outputUri !== undefined ? { outputResult: { case: "outputUri", value: extra.outputUri } } : {}),
    ...(extra.error !== undefined ? { outputResult: { case: "error", value: extra.error } } : {}),
  });
}
