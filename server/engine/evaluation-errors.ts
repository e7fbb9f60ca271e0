// Why an evaluation failed, and whether trying again can help. An evaluation that throws is tried again when its work
// item's lease expires — which only helps when the error can pass: the database unavailable or a transaction
// conflict, the file system or the blob store failing, the engine stopping. Anything else (a binding that cannot
// resolve, a value that cannot be decoded, a bug) throws again on every try: the execution fails with it instead.
import { create } from "@bufbuild/protobuf";
import {
  type ExecutionError,
  ExecutionError_ErrorKind,
  ExecutionErrorSchema,
} from "../../gen/flyteidl/core/execution_pb.js";
import { AppError, Code } from "../errors.js";
import { isRetryable, isUnavailable } from "../repositories/pg-errors.js";
import { ConditionError } from "./conditions.js";
import { OffloadedLiteralError } from "./offloaded.js";
import { BindingError } from "./plan.js";

/** What the evaluator threw while it worked on one node (its unique id): the failure names the node. */
export class NodeEvaluationError extends Error {
  constructor(
    readonly nodeId: string,
    override readonly cause: unknown,
  ) {
    super(`cannot evaluate node [${nodeId}]: ${describe(cause)}`);
    this.name = "NodeEvaluationError";
  }
}

/** An evaluation that would go round in circles: what it did left no trace, so it would do it again and again. */
export class StalledEvaluationError extends Error {}

/** gRPC codes of errors that pass (a timeout, a conflict, a dependency unavailable or out of resources). */
const PASSING_CODES: ReadonlySet<Code> = new Set([
  Code.Unavailable,
  Code.Aborted,
  Code.DeadlineExceeded,
  Code.ResourceExhausted,
  Code.Canceled,
]);

/** System errors of a file system or a network that pass (network errors of the database: see isUnavailable). */
const SYSTEM_CODES: ReadonlySet<string> = new Set([
  "EIO",
  "ENOSPC",
  "EDQUOT",
  "EMFILE",
  "ENFILE",
  "ENOMEM",
  "EAGAIN",
  "EBUSY",
  "ESTALE",
  "ETIMEDOUT",
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
]);

const codeOf = (err: unknown): unknown =>
  typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;

/** An error of the AWS SDK (an S3 blob store): a service that answered, or failed to. */
const isServiceError = (err: unknown): boolean =>
  typeof err === "object" && err !== null && "$metadata" in err;

/** Whether trying the evaluation again may succeed: the error comes from the infrastructure, not the execution. */
export function isTransient(err: unknown): boolean {
  if (err instanceof NodeEvaluationError) return isTransient(err.cause);
  if (err instanceof AppError)
    return PASSING_CODES.has(err.code) || (err.cause !== undefined && isTransient(err.cause));
  if (isUnavailable(err) || isRetryable(err) || isServiceError(err)) return true;
  const code = codeOf(err);
  return typeof code === "string" && SYSTEM_CODES.has(code);
}

/** Errors about the execution's own data (bindings, conditions, offloaded values): the user's to fix. */
const isUserData = (err: unknown): boolean =>
  err instanceof BindingError || err instanceof ConditionError || err instanceof OffloadedLiteralError;

const MAX_CAUSE_CHARS = 500;

/** The cause as a user may read it: the engine's own texts; a database error only by its SQLSTATE. */
function describe(err: unknown): string {
  if (err instanceof NodeEvaluationError || err instanceof AppError) return err.message;
  if (isUserData(err) || err instanceof StalledEvaluationError) return (err as Error).message;
  const code = codeOf(err);
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code))
    return `a database statement failed (SQLSTATE ${code})`;
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > MAX_CAUSE_CHARS ? `${text.slice(0, MAX_CAUSE_CHARS)}…` : text;
}

/** The node an evaluation failed at, if it was working on one. */
export const failedNodeOf = (err: unknown): string | undefined =>
  err instanceof NodeEvaluationError ? err.nodeId : undefined;

/** The error an execution (and the node it failed at) fails with when its evaluation cannot succeed. */
export function evaluationFailure(err: unknown): ExecutionError {
  const cause = err instanceof NodeEvaluationError ? err.cause : err;
  return create(ExecutionErrorSchema, {
    code: "EvaluationFailed",
    message:
      err instanceof NodeEvaluationError ? err.message : `cannot evaluate the execution: ${describe(err)}`,
    kind: isUserData(cause) ? ExecutionError_ErrorKind.USER : ExecutionError_ErrorKind.SYSTEM,
  });
}

/** `err` as thrown while working on node `nodeId`: errors that pass, or already name a node, stay as they are. */
export function atNode(nodeId: string | undefined, err: unknown): unknown {
  if (nodeId === undefined || isTransient(err) || err instanceof NodeEvaluationError) return err;
  return new NodeEvaluationError(nodeId, err);
}
