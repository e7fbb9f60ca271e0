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
import { type DataStore, dataUri } from "../repositories/data-store.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import { getNodeExecution } from "../repositories/node-execution-repo.js";
import * as repo from "../repositories/task-execution-repo.js";
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

export async function recordTaskEvent(
  trx: Knex,
  data: DataStore,
  exec: ExecutionRow,
  e: TaskExecutionEvent,
): Promise<void> {
  const nodeId = e.parentNodeExecutionId?.nodeId ?? "";
  const node = await getNodeExecution(trx, exec.id, nodeId);
  const idText = modelText(
    TaskExecutionIdentifierSchema,
    create(TaskExecutionIdentifierSchema, {
      ...(e.taskId === undefined ? {} : { taskId: e.taskId }),
      ...(e.parentNodeExecutionId === undefined ? {} : { nodeExecutionId: e.parentNodeExecutionId }),
      retryAttempt: e.retryAttempt,
    }),
  );
  if (node === undefined)
    throw notFound(`Failed to get existing node execution id: [${nodeId}] with err: entry not found`);
  const t = e.taskId;
  const key: repo.TaskExecutionKey = {
    node_execution_id: node.id,
    project: t?.project ?? "",
    domain: t?.domain ?? "",
    name: t?.name ?? "",
    version: t?.version ?? "",
    retry_attempt: e.retryAttempt,
  };
  const at = e.occurredAt === undefined ? new Date() : timestampDate(e.occurredAt);
  const E = Phase[e.phase] ?? "UNDEFINED";
  const existing = await repo.getTaskExecution(trx, key, true);
  if (existing !== undefined) {
    const current = taskPhase(existing.phase);
    if (current === e.phase && e.phaseVersion <= existing.phase_version) {
      throw alreadyExists(
        `have already recorded task execution phase ${existing.phase} (version: ${e.phaseVersion}) for ${idText}`,
      );
    }
    if (TERMINAL_TASK_PHASES.has(current)) {
      throw failedPrecondition(
        `invalid phase change from ${existing.phase} to ${E} for task execution ${idText}`,
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
  const out = e.outputResult;
  if (out.case === "outputUri") closure.outputResult = { case: "outputUri", value: out.value };
  if (out.case === "error") closure.outputResult = { case: "error", value: out.value };
  if (out.case === "outputData") {
    const uri = dataUri(
      "metadata",
      exec.execution_project,
      exec.execution_domain,
      exec.execution_name,
      nodeId,
      String(e.retryAttempt),
      "outputs",
    );
    await data.put(trx, uri, encodeLiteralMap(out.value));
    closure.outputResult = { case: "outputUri", value: uri };
  }
  if (e.inputValue.case === "inputUri") changes.input_uri = e.inputValue.value;
  changes.closure = Buffer.from(toBinary(TaskExecutionClosureSchema, closure));
  if (existing === undefined) {
    await repo.insertTaskExecution(trx, {
      ...key,
      ...changes,
      closure: changes.closure,
      task_execution_created_at: at,
    });
  } else {
    await repo.updateTaskExecution(trx, existing.id, changes);
  }
}
