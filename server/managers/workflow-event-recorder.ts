// Workflow execution events: FlyteAdmin's decision table (§7.1), applied inside the caller's transaction.
// The engine records its own phase changes through this same code.
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Knex } from "knex";
import { EventFailureReasonSchema } from "../../gen/flyteidl/admin/event_pb.js";
import {
  ExecutionError_ErrorKind,
  WorkflowExecution_Phase as Phase,
} from "../../gen/flyteidl/core/execution_pb.js";
import { WorkflowExecutionIdentifierSchema } from "../../gen/flyteidl/core/identifier_pb.js";
import type { WorkflowExecutionEvent } from "../../gen/flyteidl/event/event_pb.js";
import { alreadyExists, failedPrecondition } from "../errors.js";
import type { BlobWrite, DataStore } from "../repositories/data-store.js";
import { type ExecutionRow, updateExecution } from "../repositories/execution-repo.js";
import { executionOutputsUri } from "../storage/layout.js";
import {
  decodeExecClosure,
  encodeExecClosure,
  executionKey,
  TERMINAL_WORKFLOW_PHASES,
  workflowPhase,
} from "../transformers/execution.js";
import { encodeLiteralMap } from "../transformers/literals.js";
import { modelText } from "../transformers/model-text.js";

export const WATCH_CHANNEL = "petrel_watch";

/** Tells watch streams (on every replica) that an execution changed; callers send it once per transaction. */
export async function notifyWatchers(db: Knex, executionId: string): Promise<void> {
  await db.raw("SELECT pg_notify(?, ?)", [WATCH_CHANNEL, executionId]);
}

const terminalDetail = (phase: string) => [
  {
    desc: EventFailureReasonSchema,
    value: create(EventFailureReasonSchema, {
      reason: { case: "alreadyInTerminalState", value: { currentPhase: phase } },
    }),
  },
];

/** What one workflow event does to the execution row, and the blobs to store. */
export interface WorkflowEventEffect {
  readonly changes: Partial<ExecutionRow>;
  readonly blobs: BlobWrite[];
}

/** FlyteAdmin's rules for one workflow event, without I/O. Throws the AppError FlyteAdmin would return. */
export function applyWorkflowEvent(
  root: string,
  row: ExecutionRow,
  event: WorkflowExecutionEvent,
): WorkflowEventEffect {
  const current = workflowPhase(row.phase);
  const incoming = event.phase;
  const C = Phase[current] ?? "UNDEFINED";
  const E = Phase[incoming] ?? "UNDEFINED";
  const idText = modelText(
    WorkflowExecutionIdentifierSchema,
    create(WorkflowExecutionIdentifierSchema, event.executionId ?? {}),
  );
  if (incoming !== Phase.QUEUED && current === incoming) {
    throw alreadyExists(`This phase ${C} was already recorded for workflow execution ${idText}`);
  }
  if (TERMINAL_WORKFLOW_PHASES.has(current)) {
    throw failedPrecondition(
      `Invalid phase change from ${C} to ${E} for workflow execution ${idText}`,
      terminalDetail(C),
    );
  }
  if (current === Phase.RUNNING && incoming === Phase.QUEUED) {
    throw failedPrecondition(`Cannot go from RUNNING to QUEUED for workflow execution ${idText}`);
  }
  if (current === Phase.ABORTING && !TERMINAL_WORKFLOW_PHASES.has(incoming)) {
    throw failedPrecondition(`Invalid phase change from aborting to ${E} for workflow execution ${idText}`);
  }
  const at = event.occurredAt === undefined ? new Date() : timestampDate(event.occurredAt);
  const closure = decodeExecClosure(row);
  const changes: Partial<ExecutionRow> = { phase: E, execution_updated_at: at };
  const blobs: BlobWrite[] = [];
  if (incoming === Phase.RUNNING) changes.started_at = at;
  if (TERMINAL_WORKFLOW_PHASES.has(incoming) && row.started_at !== null) {
    changes.duration = (at.getTime() - row.started_at.getTime()) / 1000;
  }
  const out = event.outputResult;
  if (out.case === "outputUri")
    closure.outputResult = {
      case: "outputs",
      value: { $typeName: "flyteidl.admin.LiteralMapBlob", data: { case: "uri", value: out.value } },
    };
  if (out.case === "outputData") {
    const uri = executionOutputsUri(root, executionKey(row));
    blobs.push({ uri, data: encodeLiteralMap(out.value) });
    closure.outputResult = {
      case: "outputs",
      value: { $typeName: "flyteidl.admin.LiteralMapBlob", data: { case: "uri", value: uri } },
    };
  }
  if (out.case === "error") {
    closure.outputResult = { case: "error", value: out.value };
    changes.error_kind = ExecutionError_ErrorKind[out.value.kind] ?? "UNKNOWN";
    changes.error_code = out.value.code;
  }
  changes.closure = encodeExecClosure(closure);
  return { changes, blobs };
}

/** Applies a workflow event to the (locked) execution row, or throws the AppError FlyteAdmin would return. */
export async function recordWorkflowEvent(
  trx: Knex,
  data: DataStore,
  row: ExecutionRow,
  event: WorkflowExecutionEvent,
): Promise<void> {
  const { changes, blobs } = applyWorkflowEvent(data.root, row, event);
  await data.putMany(trx, blobs);
  await updateExecution(trx, row.id, changes);
}
