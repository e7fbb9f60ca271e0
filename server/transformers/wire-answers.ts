// Answers that carry their own encoding. A message built here reads as a normal one (its fields decode from the rows
// on first access), and until any of its fields is read or set it also knows its binary encoding, which the gRPC
// path sends as is (grpc-direct.ts). JSON, REST and interceptors that look inside get the decoded message.
import { create, fromBinary, type Message, toBinary } from "@bufbuild/protobuf";
import {
  type Execution,
  type ExecutionList,
  ExecutionListSchema,
  ExecutionSchema,
} from "../../gen/flyteidl/admin/execution_pb.js";
import { type WatchEvent, WatchEventSchema } from "../../gen/petrel/v1/watch_pb.js";
import type { ExecutionAnswerRow } from "../repositories/execution-repo.js";
import { rowToExecution, rowToExecutionSummary } from "./execution.js";
import { executionListWire, executionWire, messageField } from "./execution-wire.js";

type Wire = Uint8Array<ArrayBuffer>;
const encodings = new WeakMap<object, () => Wire | undefined>();

/** The message's binary encoding when it carries one and none of its fields was read or set; else undefined. */
export function wireOf(message: Message): Wire | undefined {
  return encodings.get(message)?.();
}

/**
 * Gives `message` the fields `keys`, taken from `decode()` when first read (or replaced when set), and the
 * encoding `encode()` as long as none of them was.
 */
function lazy<T extends Message, K extends keyof T & string>(
  message: T,
  keys: readonly K[],
  decode: () => Pick<T, K>,
  encode: () => Wire | undefined,
): T {
  let touched = false;
  let full: Pick<T, K> | undefined;
  for (const key of keys) {
    const settle = (value: unknown) => {
      touched = true;
      Object.defineProperty(message, key, { value, writable: true, enumerable: true, configurable: true });
    };
    Object.defineProperty(message, key, {
      enumerable: true,
      configurable: true,
      get() {
        full ??= decode();
        const value = full[key];
        settle(value);
        return value;
      },
      set: settle,
    });
  }
  encodings.set(message, () => (touched ? undefined : encode()));
  return message;
}

/** An admin.Execution of the row, decoded only if a field is read. */
export function lazyExecution(row: ExecutionAnswerRow): Execution {
  return lazy(
    create(ExecutionSchema),
    ["id", "spec", "closure"],
    () => rowToExecution(row),
    () => executionWire(row, false),
  );
}

/** The encoded list form of the row's admin.Execution. */
export function executionSummaryWire(row: ExecutionAnswerRow): Wire {
  return executionWire(row, true) ?? toBinary(ExecutionSchema, rowToExecutionSummary(row));
}

/** An admin.ExecutionList of encoded executions (executionSummaryWire), decoded only if its executions are read. */
export function lazyExecutionList(parts: readonly Uint8Array[], token: string): ExecutionList {
  const list = create(ExecutionListSchema, { token });
  return lazy(
    list,
    ["executions"],
    () => ({ executions: parts.map((p) => fromBinary(ExecutionSchema, p)) }),
    () => (list.token === token ? executionListWire(parts, token) : undefined),
  );
}

/** WatchEvent.execution (field 1). */
const WATCH_EVENT_EXECUTION = 1;

/** A WatchEvent carrying the row's admin.Execution, decoded only if read. */
export function lazyExecutionEvent(row: ExecutionAnswerRow): WatchEvent {
  return lazy(
    create(WatchEventSchema),
    ["kind"],
    () => ({ kind: { case: "execution", value: rowToExecution(row) } }),
    () => {
      const execution = executionWire(row, false);
      return execution === undefined ? undefined : messageField(WATCH_EVENT_EXECUTION, execution);
    },
  );
}
