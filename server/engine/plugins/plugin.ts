// What a task plugin gets and returns. Task failures are data (an ExecutionError), never exceptions.
import type { DynamicJobSpec } from "../../../gen/flyteidl/core/dynamic_job_pb.js";
import type { ExecutionError } from "../../../gen/flyteidl/core/execution_pb.js";
import type { LiteralMap } from "../../../gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../../gen/flyteidl/core/tasks_pb.js";
import type { TaskIo } from "./task-io.js";

export interface TaskContext {
  readonly template: TaskTemplate;
  readonly inputs: LiteralMap;
  /** What the task's inputs.pb holds when it differs from `inputs` (an array element reads the whole array's). */
  readonly inputsFile?: LiteralMap;
  readonly executionName: string;
  /** The execution's project and domain (with its name, they tell executions apart). */
  readonly project?: string;
  readonly domain?: string;
  readonly nodeId: string;
  readonly attempt: number;
  /**
   * The environment the engine gives the task over the template's own `container.env`: Flyte's variables
   * (execution, task, attempt, array index), the execution's `envs` and the configured ones. Never the server's.
   */
  readonly envs: Readonly<Record<string, string>>;
  /** The secret files the task asked for (mount requirement FILE), by path under FLYTE_SECRETS_DEFAULT_DIR. */
  readonly secretFiles?: Readonly<Record<string, string>>;
  /** Aborted when the execution is terminated or the attempt times out. */
  readonly signal: AbortSignal;
  /** A scratch directory that belongs to this attempt (removed after it). */
  readonly workDir: string;
  /** The attempt's places in the blob store (container tasks need them; `echo` runs without). */
  readonly io?: TaskIo;
  /** Where the task's stdout and stderr go as they come (kept in the store, followed live by clients). */
  readonly logs?: LogSink;
}

/** Receives a task's output as it is written. */
export interface LogSink {
  write(stream: "stdout" | "stderr", data: Buffer): void;
}

/** What the task left besides its outputs: a deck (`deck.html`) to report. */
export interface TaskArtifacts {
  readonly logs?: TaskLogs;
  readonly deckUri?: string;
}

export type TaskResult =
  | ({ readonly ok: true; readonly outputs: LiteralMap } & TaskArtifacts)
  /** A dynamic task: the sub-graph it wrote (futures.pb at `futuresUri`) runs under its node. */
  | ({ readonly ok: true; readonly dynamic: DynamicJobSpec; readonly futuresUri: string } & TaskArtifacts)
  /** `permanent`: no retry, whatever the budget (a non-recoverable error the task reported, a bad spec). */
  | ({ readonly ok: false; readonly error: ExecutionError; readonly permanent?: boolean } & TaskArtifacts);

export interface TaskLogs {
  readonly stdout: string;
  readonly stderr: string;
}

export interface TaskPlugin {
  readonly name: string;
  run(ctx: TaskContext): Promise<TaskResult>;
}
