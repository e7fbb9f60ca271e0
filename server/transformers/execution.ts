// Execution rows <-> admin.Execution messages.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type Execution,
  type ExecutionClosure,
  ExecutionClosureSchema,
  ExecutionSchema,
  type ExecutionSpec,
  ExecutionSpecSchema,
} from "../../gen/flyteidl/admin/execution_pb.js";
import { WorkflowExecution_Phase } from "../../gen/flyteidl/core/execution_pb.js";
import { WorkflowExecutionIdentifierSchema } from "../../gen/flyteidl/core/identifier_pb.js";
import type { ExecutionAnswerRow, ExecutionRow } from "../repositories/execution-repo.js";
import type { ExecutionKey } from "../storage/layout.js";

export const encodeExecSpec = (s: ExecutionSpec): Buffer => Buffer.from(toBinary(ExecutionSpecSchema, s));
export const encodeExecClosure = (c: ExecutionClosure): Buffer =>
  Buffer.from(toBinary(ExecutionClosureSchema, c));
export const decodeExecSpec = (row: Pick<ExecutionRow, "spec">): ExecutionSpec =>
  fromBinary(ExecutionSpecSchema, row.spec);
export const decodeExecClosure = (row: Pick<ExecutionRow, "closure">): ExecutionClosure =>
  fromBinary(ExecutionClosureSchema, row.closure);

export const workflowPhase = (name: string): WorkflowExecution_Phase =>
  (WorkflowExecution_Phase as unknown as Record<string, number>)[name] ?? WorkflowExecution_Phase.UNDEFINED;
export const workflowPhaseName = (p: WorkflowExecution_Phase): string =>
  WorkflowExecution_Phase[p] ?? "UNDEFINED";

export const TERMINAL_WORKFLOW_PHASES: ReadonlySet<WorkflowExecution_Phase> = new Set([
  WorkflowExecution_Phase.SUCCEEDED,
  WorkflowExecution_Phase.FAILED,
  WorkflowExecution_Phase.ABORTED,
  WorkflowExecution_Phase.TIMED_OUT,
]);

export function executionId(
  row: Pick<ExecutionRow, "execution_project" | "execution_domain" | "execution_name">,
) {
  return create(WorkflowExecutionIdentifierSchema, {
    project: row.execution_project,
    domain: row.execution_domain,
    name: row.execution_name,
  });
}

/** The execution's key, as the storage layout names it. */
export const executionKey = (
  row: Pick<ExecutionRow, "execution_project" | "execution_domain" | "execution_name">,
): ExecutionKey => ({
  project: row.execution_project,
  domain: row.execution_domain,
  name: row.execution_name,
});

/** The execution as clients see it: timestamps and phase from the columns, which the engine keeps current. */
export function rowToExecution(row: ExecutionAnswerRow): Execution {
  const closure = decodeExecClosure(row);
  closure.phase = workflowPhase(row.phase);
  closure.createdAt = timestampFromDate(row.execution_created_at);
  closure.updatedAt = timestampFromDate(row.execution_updated_at);
  if (row.started_at !== null) closure.startedAt = timestampFromDate(row.started_at);
  if (row.duration > 0) closure.duration = durationFromMs(Math.round(row.duration * 1000));
  if (closure.phase === WorkflowExecution_Phase.ABORTED && closure.outputResult.case === undefined) {
    closure.outputResult = {
      case: "abortMetadata",
      value: { $typeName: "flyteidl.admin.AbortMetadata", cause: row.abort_cause, principal: "" },
    };
  }
  return create(ExecutionSchema, { id: executionId(row), spec: decodeExecSpec(row), closure });
}

/** The list form: inputs cleared and error messages cut to 100 characters, as FlyteAdmin does. */
export function rowToExecutionSummary(row: ExecutionAnswerRow): Execution {
  const e = rowToExecution(row);
  if (e.spec !== undefined) e.spec.inputs = undefined;
  if (e.closure !== undefined) {
    e.closure.computedInputs = undefined;
    if (e.closure.outputResult.case === "error")
      e.closure.outputResult.value.message = e.closure.outputResult.value.message.slice(0, 100);
  }
  return e;
}
