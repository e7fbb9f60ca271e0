// React views of an ExecutionStore: one node (re-rendered only when it changes) or the whole store (once a frame).
import { useCallback, useSyncExternalStore } from "react";
import type { NodeExecution } from "../../../gen/flyteidl/admin/node_execution_pb.js";
import type { TaskExecution } from "../../../gen/flyteidl/admin/task_execution_pb.js";
import type { ExecutionStore } from "./execution-store";

/** Re-renders the caller at most once per animation frame while the store changes; returns its version. */
export function useStoreVersion(store: ExecutionStore): number {
  return useSyncExternalStore(store.subscribe, store.getVersion);
}

export function useNodeExecution(store: ExecutionStore, id: string): NodeExecution | undefined {
  const subscribe = useCallback((l: () => void) => store.subscribeNode(id, l), [store, id]);
  return useSyncExternalStore(subscribe, () => store.node(id));
}

export function useAttempts(store: ExecutionStore, id: string): readonly TaskExecution[] {
  const subscribe = useCallback((l: () => void) => store.subscribeNode(id, l), [store, id]);
  return useSyncExternalStore(subscribe, () => store.attemptsOf(id));
}
