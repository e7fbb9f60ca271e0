// Fields every log line written during a piece of work carries (the rpc's request id, the execution the engine is
// working on), kept in AsyncLocalStorage so that code deep in a call needs no logger of its own.
import { AsyncLocalStorage } from "node:async_hooks";

export type LogFields = Readonly<Record<string, string>>;

const storage = new AsyncLocalStorage<LogFields>();

/** Runs `fn` with `fields` added to every log line written within it (nested contexts add to the outer). */
export function withLogContext<T>(fields: LogFields, fn: () => T): T {
  const outer = storage.getStore();
  return storage.run(outer === undefined ? fields : { ...outer, ...fields }, fn);
}

/** The fields of the current context ({} outside any). */
export function currentLogContext(): LogFields {
  return storage.getStore() ?? {};
}
