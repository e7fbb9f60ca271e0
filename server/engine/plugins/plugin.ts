// What a task plugin gets and returns. Task failures are data (an ExecutionError), never exceptions.
import type { ExecutionError } from "../../../gen/flyteidl/core/execution_pb.js";
import type { LiteralMap } from "../../../gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../../gen/flyteidl/core/tasks_pb.js";
import type { TaskIo } from "./task-io.js";

export interface TaskContext {
  readonly template: TaskTemplate;
  readonly inputs: LiteralMap;
  readonly executionName: string;
  /** The execution's project and domain (with its name, they tell executions apart). */
  readonly project?: string;
  readonly domain?: string;
  readonly nodeId: string;
  readonly attempt: number;
  readonly envs: Readonly<Record<string, string>>;
  /** Aborted when the execution is terminated or the attempt times out. */
  readonly signal: AbortSignal;
  /** A scratch directory that belongs to this attempt (removed after it). */
  readonly workDir: string;
  /** The attempt's places in the blob store (container tasks need them; `echo` runs without). */
  readonly io?: TaskIo;
}

export type TaskResult =
  | { readonly ok: true; readonly outputs: LiteralMap; readonly logs?: TaskLogs }
  | { readonly ok: false; readonly error: ExecutionError; readonly logs?: TaskLogs };

export interface TaskLogs {
  readonly stdout: string;
  readonly stderr: string;
}

export interface TaskPlugin {
  readonly name: string;
  run(ctx: TaskContext): Promise<TaskResult>;
}
