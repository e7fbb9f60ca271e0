// Task execution events (§7.3): one row per attempt; the same phase with a higher phase_version is an update.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { durationFromMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Knex } from "knex";
import { EventFailureReasonSchema } from "../../gen/flyteidl/admin/event_pb.js";
import { ReasonSchema, TaskExecutionClosureSchema } from "../../gen/flyteidl/admin/task_execution_pb.js";
import { TaskExecution_Phase as Phase, type TaskLog } from "../../gen/flyteidl/core/execution_pb.js";
import { TaskExecutionIdentifierSchema } from "../../gen/flyteidl/core/identifier_pb.js";
import type { TaskExecutionEvent } from "../../gen/flyteidl/event/event_pb.js";
import { alreadyExists, failedPrecondition, notFound } from "../errors.js";
import type { BlobWrite, DataStore } from "../repositories/data-store.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import { getNodeExecution } from "../repositories/node-execution-repo.js";
import * as repo from "../repositories/task-execution-repo.js";
import { attemptOutputsUri } from "../storage/layout.js";
import { executionKey } from "../transformers/execution.js";
import { encodeLiteralMap } from "../transformers/literals.js";
import { modelText } from "../transformers/model-text.js";
import { taskPhase } from "../transformers/node-execution.js";

export const TERMINAL_TASK_PHASES: ReadonlySet<Phase> = new Set([
  Phase.SUCCEEDED,
  Phase.FAILED,
  Phase.ABORTED,
]);

function mergeLogs(fresh: readonly TaskLog[], old: readonly TaskLog[]): TaskLog[] {
  const kept = old.filter((o) => !fresh.some((n) => n.uri === o.uri && n.name === o.name));
  return [...fresh, ...kept];
}

/** The text FlyteAdmin names a task execution by in its errors. */
function taskIdText(e: TaskExecutionEvent): string {
  return modelText(
    TaskExecutionIdentifierSchema,
    create(TaskExecutionIdentifierSchema, {
      ...(e.taskId === undefined ? {} : { taskId: e.taskId }),
      ...(e.parentNodeExecutionId === undefined ? {} : { nodeExecutionId: e.parentNodeExecutionId }),
      retryAttempt: e.retryAttempt,
    }),
  );
}

export const nodeMissing = (e: TaskExecutionEvent) =>
  notFound(
    `Failed to get existing node execution id: [${e.parentNodeExecutionId?.nodeId ?? ""}] with err: entry not found`,
  );

/** The row key of the attempt an event is about, under the node execution row `nodeExecutionId`. */
export function taskKeyOf(nodeExecutionId: string, e: TaskExecutionEvent): repo.TaskExecutionKey {
  const t = e.taskId;
  return {
    node_execution_id: nodeExecutionId,
    project: t?.project ?? "",
    domain: t?.domain ?? "",
    name: t?.name ?? "",
    version: t?.version ?? "",
    retry_attempt: e.retryAttempt,
  };
}

/** What one event does to an attempt's row (created when `existing` is undefined), and the blobs to store. */
export interface TaskEventEffect {
  readonly changes: repo.TaskExecutionChanges & { closure: Buffer };
  /** Set for the first event of an attempt: when the row is created. */
  readonly createdAt?: Date;
  readonly blobs: BlobWrite[];
}

/** FlyteAdmin's rules for one task event, without I/O. Throws the AppError FlyteAdmin would return. */
export function applyTaskEvent(
  root: string,
  exec: ExecutionRow,
  existing: repo.TaskExecutionRow | undefined,
  e: TaskExecutionEvent,
): TaskEventEffect {
  const nodeId = e.parentNodeExecutionId?.nodeId ?? "";
  const at = e.occurredAt === undefined ? new Date() : timestampDate(e.occurredAt);
  const E = Phase[e.phase] ?? "UNDEFINED";
  if (existing !== undefined) {
    const current = taskPhase(existing.phase);
    if (current === e.phase && e.phaseVersion <= existing.phase_version) {
      throw alreadyExists(
        `have already recorded task execution phase ${existing.phase} (version: ${e.phaseVersion}) for ${taskIdText(e)}`,
      );
    }
    if (TERMINAL_TASK_PHASES.has(current)) {
      throw failedPrecondition(
        `invalid phase change from ${existing.phase} to ${E} for task execution ${taskIdText(e)}`,
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
  }
  const closure =
    existing === undefined
      ? create(TaskExecutionClosureSchema, { createdAt: timestampFromDate(at), taskType: e.taskType })
      : fromBinary(TaskExecutionClosureSchema, existing.closure);
  closure.phase = e.phase;
  closure.updatedAt = timestampFromDate(at);
  closure.logs = mergeLogs(e.logs, closure.logs);
  for (const r of e.reasons)
    closure.reasons.push(
      create(ReasonSchema, { message: r.reason, ...(r.occurredAt ? { occurredAt: r.occurredAt } : {}) }),
    );
  if (e.reason !== "")
    closure.reasons.push(create(ReasonSchema, { occurredAt: timestampFromDate(at), message: e.reason }));
  closure.reason = closure.reasons[closure.reasons.length - 1]?.message ?? closure.reason;
  if (e.metadata !== undefined) closure.metadata = e.metadata;
  closure.eventVersion = Math.max(closure.eventVersion, e.eventVersion);
  const changes: repo.TaskExecutionChanges = {
    phase: E,
    phase_version: e.phaseVersion,
    task_execution_updated_at: at,
  };
  const startedAt = existing?.started_at ?? null;
  if (e.phase === Phase.RUNNING && startedAt === null) {
    changes.started_at = at;
    closure.startedAt = timestampFromDate(at);
  }
  const began = changes.started_at ?? startedAt;
  if (TERMINAL_TASK_PHASES.has(e.phase) && began !== null) {
    changes.duration = (at.getTime() - began.getTime()) / 1000;
    closure.duration = durationFromMs(Math.round(changes.duration * 1000));
  }
  const blobs: BlobWrite[] = [];
  const out = e.outputResult;
  if (out.case === "outputUri") closure.outputResult = { case: "outputUri", value: out.value };
  if (out.case === "error") closure.outputResult = { case: "error", value: out.value };
  if (out.case === "outputData") {
    const uri = attemptOutputsUri(root, executionKey(exec), nodeId, e.retryAttempt);
    blobs.push({ uri, data: encodeLiteralMap(out.value) });
    closure.outputResult = { case: "outputUri", value: uri };
  }
  if (e.inputValue.case === "inputUri") changes.input_uri = e.inputValue.value;
  const written = { ...changes, closure: Buffer.from(toBinary(TaskExecutionClosureSchema, closure)) };
  return existing === undefined ? { changes: written, createdAt: at, blobs } : { changes: written, blobs };
}

/** The CreateTaskEvent rpc's write: one event against the stored rows, inside the caller's transaction. */
export async function recordTaskEvent(
  trx: Knex,
  data: DataStore,
  exec: ExecutionRow,
  e: TaskExecutionEvent,
): Promise<void> {
  const node = await getNodeExecution(trx, exec.id, e.parentNodeExecutionId?.nodeId ?? "");
  if (node === undefined) throw nodeMissing(e);
  const key = taskKeyOf(node.id, e);
  const existing = await repo.getTaskExecution(trx, key, true);
  const effect = applyTaskEvent(data.root, exec, existing, e);
  await data.putMany(trx, effect.blobs);
  if (existing === undefined) {
    await repo.insertTaskExecutions(trx, [
      { ...key, ...effect.changes, task_execution_created_at: effect.createdAt ?? new Date() },
    ]);
  } else {
    await repo.updateTaskExecutions(trx, [{ ...existing, ...effect.changes }]);
  }
}
