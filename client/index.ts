// The `petrel/client` entry point.
export * from "./errors.js";
export {
  type ExecuteOptions,
  ExecutionHandle,
  ExecutionTimeoutError,
  FriendlyRemote,
  type Target,
} from "./friendly-remote.js";
export type { FlatIds, ListHelpers, Page } from "./list-helpers.js";
export { type ConnectOptions, SynchronousClient } from "./synchronous-client.js";
export { fromLiteral, fromLiteralMap, TypeMismatchError, toLiteral, toLiteralMap } from "./type-engine.js";
export { type TaskFunction, Worker, type WorkerOptions } from "./worker.js";
