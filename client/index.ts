// The `petrel/client` entry point.

export type { Backfill, BackfillOptions } from "./backfill.js";
export type { TransferOptions } from "./blob-uploads.js";
export * from "./dsl/index.js";
export * from "./errors.js";
export type { TaskLogLink, TaskLogText, WaitOptions } from "./execution-handle.js";
export {
  ExecutionHandle,
  ExecutionNotSucceededError,
  ExecutionTimeoutError,
  type NodeInfo,
} from "./execution-handle.js";
export type { InputsOf, OutputsOf, WorkflowCandidate } from "./friendly-remote.js";
export {
  type ExecuteOptions,
  type ExecuteTarget,
  FriendlyRemote,
  type Registrable,
  type Target,
} from "./friendly-remote.js";
export type { FlatIds, ListHelpers, Page } from "./list-helpers.js";
export type { NodeProgress, ProgressCallbacks, RunProgress, TaskProgress } from "./progress.js";
export { type ConnectOptions, SynchronousClient } from "./synchronous-client.js";
export { fromLiteral, fromLiteralMap, TypeMismatchError, toLiteral, toLiteralMap } from "./type-engine.js";
export { type TaskFunction, Worker, type WorkerOptions } from "./worker.js";
