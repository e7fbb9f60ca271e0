// Node execution events (§7.2): the first event creates the row; later ones follow FlyteAdmin's rules.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { durationFromMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Knex } from "knex";
import { EventFailureReasonSchema } from "../../gen/flyteidl/admin/event_pb.js";
import {
  type NodeExecutionClosure,
  NodeExecutionClosureSchema,
  type NodeExecutionMetaData,
  NodeExecutionMetaDataSchema,
  TaskNodeMetadataSchema,
  WorkflowNodeMetadataSchema,
} from "../../gen/flyteidl/admin/node_execution_pb.js";
import { CatalogCacheStatus } from "../../gen/flyteidl/core/catalog_pb.js";
import { CompiledWorkflowClosureSchema } from "../../gen/flyteidl/core/compiler_pb.js";
import {
  ExecutionError_ErrorKind,
  NodeExecution_Phase as Phase,
} from "../../gen/flyteidl/core/execution_pb.js";
import { NodeExecutionIdentifierSchema } from "../../gen/flyteidl/core/identifier_pb.js";
import type { NodeExecutionEvent } from "../../gen/flyteidl/event/event_pb.js";
import { alreadyExists, failedPrecondition, notFound } from "../errors.js";
import type { BlobWrite, DataStore } from "../repositories/data-store.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import * as repo from "../repositories/node-execution-repo.js";
import { getTaskExecution } from "../repositories/task-execution-repo.js";
import { attemptOutputsUri, dynamicWorkflowUri, nodeInputsUri } from "../storage/layout.js";
import { executionKey } from "../transformers/execution.js";
import { encodeLiteralMap } from "../transformers/literals.js";
import { modelText } from "../transformers/model-text.js";
import { nodePhase } from "../transformers/node-execution.js";

export const TERMINAL_NODE_PHASES: ReadonlySet<Phase> = new Set([
  Phase.SUCCEEDED,
  Phase.FAILED,
  Phase.TIMED_OUT,
  Phase.ABORTED,
  Phase.SKIPPED,
  Phase.RECOVERED,
]);

function mergeMetadata(existing: Buffer | null, e: NodeExecutionEvent): NodeExecutionMetaData {
  const m =
    existing === null
      ? create(NodeExecutionMetaDataSchema)
      : fromBinary(NodeExecutionMetaDataSchema, existing);
  if (e.retryGroup !== "") m.retryGroup = e.retryGroup;
  if (e.specNodeId !== "") m.specNodeId = e.specNodeId;
  m.isParentNode ||= e.isParent;
  m.isDynamic ||= e.isDynamic;
  m.isArray ||= e.isArray;
  return m;
}

function applyOutputs(
  root: string,
  exec: ExecutionRow,
  e: NodeExecutionEvent,
  closure: NodeExecutionClosure,
  changes: repo.NodeExecutionChanges,
  blobs: BlobWrite[],
): void {
  const out = e.outputResult;
  if (out.case === "outputUri") closure.outputResult = { case: "outputUri", value: out.value };
  if (out.case === "outputData") {
    // A node's own outputs (not an attempt's): its output directory for attempt 0, as Flyte's non-task nodes have.
    const uri = attemptOutputsUri(root, executionKey(exec), e.id?.nodeId ?? "", 0);
    blobs.push({ uri, data: encodeLiteralMap(out.value) });
    closure.outputResult = { case: "outputUri", value: uri };
  }
  if (out.case === "error") {
    closure.outputResult = { case: "error", value: out.value };
    changes.error_kind = ExecutionError_ErrorKind[out.value.kind] ?? "UNKNOWN";
    changes.error_code = out.value.code;
  }
  const tm = e.targetMetadata;
  if (tm.case === "workflowNodeMetadata") {
    closure.targetMetadata = {
      case: "workflowNodeMetadata",
      value: create(
        WorkflowNodeMetadataSchema,
        tm.value.executionId === undefined ? {} : { executionId: tm.value.executionId },
      ),
    };
  }
  if (tm.case === "taskNodeMetadata") {
    const { cacheStatus, checkpointUri, dynamicWorkflow } = tm.value;
    if (dynamicWorkflow?.compiledWorkflow !== undefined) {
      // Kept as FlyteAdmin keeps it: the compiled closure in the store, the row pointing at it.
      const id = dynamicWorkflow.id ?? dynamicWorkflow.compiledWorkflow.primary?.template?.id;
      const uri = dynamicWorkflowUri(root, executionKey(exec), e.id?.nodeId ?? "", {
        project: id?.project ?? "",
        domain: id?.domain ?? "",
        name: id?.name ?? "",
        version: id?.version ?? "",
      });
      blobs.push({ uri, data: toBinary(CompiledWorkflowClosureSchema, dynamicWorkflow.compiledWorkflow) });
      changes.dynamic_workflow_uri = uri;
      closure.dynamicJobSpecUri = dynamicWorkflow.dynamicJobSpecUri;
    }
    closure.targetMetadata = {
      case: "taskNodeMetadata",
      value: create(TaskNodeMetadataSchema, {
        cacheStatus,
        checkpointUri,
        ...(tm.value.catalogKey ? { catalogKey: tm.value.catalogKey } : {}),
      }),
    };
    changes.cache_status = CatalogCacheStatus[cacheStatus] ?? "";
  }
  if (e.deckUri !== "") closure.deckUri = e.deckUri;
}

/** What one event does to a node execution: the row to insert, or the changes to its row, and blobs to store. */
export type NodeEventEffect =
  | { readonly kind: "insert"; readonly row: repo.NewNodeExecutionRow; readonly blobs: BlobWrite[] }
  | { readonly kind: "update"; readonly changes: repo.NodeExecutionChanges; readonly blobs: BlobWrite[] };

/**
 * FlyteAdmin's rules for one node event, without I/O: `existing` is the node's current row (undefined for the first
 * event), `parentId` the row id of the parent node named by the event. Throws the AppError FlyteAdmin would return.
 */
export function applyNodeEvent(
  root: string,
  exec: ExecutionRow,
  existing: repo.NodeExecutionRow | undefined,
  e: NodeExecutionEvent,
  parentId: string | null,
  parentTaskExecutionId: string | null = null,
): NodeEventEffect {
  const nodeId = e.id?.nodeId ?? "";
  const at = e.occurredAt === undefined ? new Date() : timestampDate(e.occurredAt);
  const E = Phase[e.phase] ?? "UNDEFINED";
  const blobs: BlobWrite[] = [];
  let inputUri = e.inputValue.case === "inputUri" ? e.inputValue.value : "";
  if (e.inputValue.case === "inputData") {
    inputUri = nodeInputsUri(root, executionKey(exec), nodeId);
    blobs.push({ uri: inputUri, data: encodeLiteralMap(e.inputValue.value) });
  }
  if (existing === undefined) {
    const closure = create(NodeExecutionClosureSchema, {
      phase: e.phase,
      createdAt: timestampFromDate(at),
      updatedAt: timestampFromDate(at),
    });
    const changes: repo.NodeExecutionChanges = {};
    applyOutputs(root, exec, e, closure, changes, blobs);
    if (e.phase === Phase.RUNNING) closure.startedAt = timestampFromDate(at);
    const row: repo.NewNodeExecutionRow = {
      execution_id: exec.id,
      node_id: nodeId,
      phase: E,
      closure: Buffer.from(toBinary(NodeExecutionClosureSchema, closure)),
      metadata: Buffer.from(toBinary(NodeExecutionMetaDataSchema, mergeMetadata(null, e))),
      input_uri: inputUri,
      started_at: e.phase === Phase.RUNNING ? at : null,
      node_execution_created_at: at,
      parent_id: parentId,
      parent_task_execution_id: parentTaskExecutionId,
      ...changes,
    };
    return { kind: "insert", row, blobs };
  }
  const current = nodePhase(existing.phase);
  const idText = modelText(NodeExecutionIdentifierSchema, create(NodeExecutionIdentifierSchema, e.id ?? {}));
  if (current === e.phase)
    throw alreadyExists(`This phase was already recorded ${existing.phase} for ${idText}`);
  if (TERMINAL_NODE_PHASES.has(current)) {
    throw failedPrecondition(
      `Invalid phase change from ${existing.phase} to ${E} for node execution ${existing.id}`,
      [
        {
          desc: EventFailureReasonSchema,
          value: create(EventFailureReasonSchema, {
            reason: { case: "alreadyInTerminalState", value: { currentPhase: E } },
          }),
        },
      ],
    );
  }
  const closure = fromBinary(NodeExecutionClosureSchema, existing.closure);
  closure.phase = e.phase;
  closure.updatedAt = timestampFromDate(at);
  const changes: repo.NodeExecutionChanges = { phase: E, node_execution_updated_at: at };
  if (e.phase === Phase.RUNNING && existing.started_at === null) {
    changes.started_at = at;
    closure.startedAt = timestampFromDate(at);
  }
  if (TERMINAL_NODE_PHASES.has(e.phase) && existing.started_at !== null) {
    changes.duration = (at.getTime() - existing.started_at.getTime()) / 1000;
    closure.duration = durationFromMs(Math.round(changes.duration * 1000));
  }
  applyOutputs(root, exec, e, closure, changes, blobs);
  if (inputUri !== "") changes.input_uri = inputUri;
  changes.closure = Buffer.from(toBinary(NodeExecutionClosureSchema, closure));
  changes.metadata = Buffer.from(toBinary(NodeExecutionMetaDataSchema, mergeMetadata(existing.metadata, e)));
  return { kind: "update", changes, blobs };
}

/** The CreateNodeEvent rpc's write: one event against the stored row, inside the caller's transaction. */
export async function recordNodeEvent(
  trx: Knex,
  data: DataStore,
  exec: ExecutionRow,
  e: NodeExecutionEvent,
): Promise<void> {
  const existing = await repo.getNodeExecution(trx, exec.id, e.id?.nodeId ?? "", true);
  let parentId: string | null = null;
  if (existing === undefined && e.parentNodeMetadata !== undefined) {
    const parent = await repo.getNodeExecution(trx, exec.id, e.parentNodeMetadata.nodeId);
    if (parent === undefined) throw notFound("entry not found");
    parentId = parent.id;
  }
  const parentTask = existing === undefined ? await parentTaskExecutionId(trx, exec, e) : null;
  const effect = applyNodeEvent(data.root, exec, existing, e, parentId, parentTask);
  await data.putMany(trx, effect.blobs);
  if (effect.kind === "insert") await repo.insertNodeExecutions(trx, [effect.row]);
  else if (existing !== undefined) await repo.updateNodeExecutions(trx, [{ ...existing, ...effect.changes }]);
}

/** The row id of the task attempt an event names as its parent (a dynamic node's children); null when none. */
export async function parentTaskExecutionId(
  trx: Knex,
  exec: ExecutionRow,
  e: NodeExecutionEvent,
): Promise<string | null> {
  const id = e.parentTaskMetadata?.id;
  if (id === undefined) return null;
  const node = await repo.getNodeExecution(trx, exec.id, id.nodeExecutionId?.nodeId ?? "");
  if (node === undefined) throw notFound("entry not found");
  const task = await getTaskExecution(trx, {
    node_execution_id: node.id,
    project: id.taskId?.project ?? "",
    domain: id.taskId?.domain ?? "",
    name: id.taskId?.name ?? "",
    version: id.taskId?.version ?? "",
    retry_attempt: id.retryAttempt,
  });
  if (task === undefined) throw notFound("entry not found");
  return task.id;
}
