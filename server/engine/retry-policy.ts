// Flyte's retry rules for a failed task attempt (task-contract.md §3.6), without I/O. A user (or unknown) failure
// is retried while the node's user attempts stay below `retries + 1` (the node's retries when set, else the task's);
// a system failure has a budget of its own; a permanent failure is never retried. When the budget is spent the node
// fails with `RetriesExhausted|<code>`, as propeller reports it.
import { create } from "@bufbuild/protobuf";
import {
  type ExecutionError,
  ExecutionError_ErrorKind,
  ExecutionErrorSchema,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";

/** Propeller's `max-node-retries-system-failures` default. */
export const MAX_SYSTEM_RETRIES = 3;

/** Attempts a node may make for user failures: its own retries when non-zero, else its task's, plus one. */
export function maxAttempts(node: Node | undefined, template: TaskTemplate | undefined): number {
  const own = node?.metadata?.retries?.retries ?? 0;
  return (own !== 0 ? own : (template?.metadata?.retries?.retries ?? 0)) + 1;
}

export type RetryVerdict =
  | { readonly retry: true }
  | { readonly retry: false; readonly nodeError: ExecutionError };

/**
 * Whether attempt `attempt` (0-based) may be followed by another, given the node's earlier system failures
 * (`systemFailures`, this one not counted); otherwise the error the node fails with.
 */
export function retryVerdict(
  error: ExecutionError,
  permanent: boolean,
  attempt: number,
  systemFailures: number,
  max: number,
): RetryVerdict {
  if (permanent) return { retry: false, nodeError: error };
  const system = error.kind === ExecutionError_ErrorKind.SYSTEM;
  const current = system ? systemFailures : attempt + 1 - systemFailures;
  const limit = system ? MAX_SYSTEM_RETRIES : max;
  if (current < limit) return { retry: true };
  const kind = ExecutionError_ErrorKind[error.kind] ?? "UNKNOWN";
  return {
    retry: false,
    nodeError: create(ExecutionErrorSchema, {
      code: `RetriesExhausted|${error.code}`,
      message: `[${current}/${limit}] currentAttempt done. Last Error: ${kind}::${error.message}`,
      kind: ExecutionError_ErrorKind.USER,
      ...(error.timestamp !== undefined ? { timestamp: error.timestamp } : {}),
      worker: error.worker,
    }),
  };
}
