// Node execution events (§7.2): the first event creates the row; later ones follow FlyteAdmin's rules.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { durationFromMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Knex } from "knex";
import { EventFailureReasonSchema } from "../../gen/flyteidl/admin/event_pb.js";
import {
  NodeExecutionClosureSchema,
  type NodeExecutionMetaData,
  NodeExecutionMetaDataSchema,
  TaskNodeMetadataSchema,
  WorkflowNodeMetadataSchema,
} from "../../gen/flyteidl/admin/node_execution_pb.js";
import { CatalogCacheStatus } from "../../gen/flyteidl/core/catalog_pb.js";
import {
  ExecutionError_ErrorKind,
  NodeExecution_Phase as Phase,
} from "../../gen/flyteidl/core/execution_pb.js";
import { NodeExecutionIdentifierSchema } from "../../gen/flyteidl/core/identifier_pb.js";
import type { NodeExecutionEvent } from "../../gen/flyteidl/event/event_pb.js";
import { alreadyExists, failedPrecondition, notFound } from "../errors.js";
import { type DataStore, dataUri } from "../repositories/data-store.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import * as repo from "../repositories/node-execution-repo.js";
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

async function applyOutputs(
  trx: Knex,
  data: DataStore,
  exec: ExecutionRow,
  e: NodeExecutionEvent,
  closure: ReturnType<typeof fromBinary<typeof NodeExecutionClosureSchema>>,
  changes: repo.NodeExecutionChanges,
): Promise<void> {
  const out = e.outputResult;
  if (out.case === "outputUri") closure.outputResult = { case: "outputUri", value: out.value };
  if (out.case === "outputData") {
    const uri = dataUri(
      "metadata",
      exec.execution_project,
      exec.execution_domain,
      exec.execution_name,
      e.id?.nodeId ?? "",
      "outputs",
    );
    await data.put(trx, uri, encodeLiteralMap(out.value));
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
    const { cacheStatus, checkpointUri } = tm.value;
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
}

export async function recordNodeEvent(
  trx: Knex,
  data: DataStore,
  exec: ExecutionRow,
  e: NodeExecutionEvent,
): Promise<void> {
  const nodeId = e.id?.nodeId ?? "";
  const at = e.occurredAt === undefined ? new Date() : timestampDate(e.occurredAt);
  const E = Phase[e.phase] ?? "UNDEFINED";
  const existing = await repo.getNodeExecution(trx, exec.id, nodeId, true);
  let inputUri = e.inputValue.case === "inputUri" ? e.inputValue.value : "";
  if (e.inputValue.case === "inputData") {
    inputUri = dataUri(
      "metadata",
      exec.execution_project,
      exec.execution_domain,
      exec.execution_name,
      nodeId,
      "inputs",
    );
    await data.put(trx, inputUri, encodeLiteralMap(e.inputValue.value));
  }
  if (existing === undefined) {
    let parentId: string | null = null;
    if (e.parentNodeMetadata !== undefined) {
      const parent = await repo.getNodeExecution(trx, exec.id, e.parentNodeMetadata.nodeId);
      if (parent === undefined) throw notFound("entry not found");
      parentId = parent.id;
    }
    const closure = create(NodeExecutionClosureSchema, {
      phase: e.phase,
      createdAt: timestampFromDate(at),
      updatedAt: timestampFromDate(at),
    });
    const changes: repo.NodeExecutionChanges = {};
    await applyOutputs(trx, data, exec, e, closure, changes);
    if (e.phase === Phase.RUNNING) closure.startedAt = timestampFromDate(at);
    await repo.insertNodeExecution(trx, {
      execution_id: exec.id,
      node_id: nodeId,
      phase: E,
      closure: Buffer.from(toBinary(NodeExecutionClosureSchema, closure)),
      metadata: Buffer.from(toBinary(NodeExecutionMetaDataSchema, mergeMetadata(null, e))),
      input_uri: inputUri,
      started_at: e.phase === Phase.RUNNING ? at : null,
      node_execution_created_at: at,
      parent_id: parentId,
      parent_task_execution_id: null,
      ...changes,
    });
    return;
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
  await applyOutputs(trx, data, exec, e, closure, changes);
  if (inputUri !== "") changes.input_uri = inputUri;
  changes.closure = Buffer.from(toBinary(NodeExecutionClosureSchema, closure));
  changes.metadata = Buffer.from(toBinary(NodeExecutionMetaDataSchema, mergeMetadata(existing.metadata, e)));
  await repo.updateNodeExecution(trx, existing.id, changes);
}
