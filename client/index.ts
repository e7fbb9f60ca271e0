// The `petrel/client` entry point.
export * from "./errors.js";
export type { FlatIds, ListHelpers, Page } from "./list-helpers.js";
export { type ConnectOptions, SynchronousClient } from "./synchronous-client.js";
