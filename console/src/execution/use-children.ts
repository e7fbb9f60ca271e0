// Keeps a parent node's children in the store: tracked at once (the watch stream's nested nodes are filed under it),
// then listed with ListNodeExecutions(unique_parent_id) once the parent has started.
import { Code, ConnectError } from "@connectrpc/connect";
import { useEffect, useState } from "react";
import type { WorkflowExecutionIdentifier } from "../../../gen/flyteidl/core/identifier_pb.js";
import { describeError, isAbort } from "../api";
import type { ExecutionStore } from "./execution-store";
import { listChildren } from "./listings";
import { useNodeExecution } from "./use-store";

/** Why the children could not be listed, if they could not. */
export function useChildren(
  store: ExecutionStore,
  executionId: WorkflowExecutionIdentifier,
  parentId: string,
): string | undefined {
  const started = useNodeExecution(store, parentId) !== undefined;
  const [error, setError] = useState<string>();
  useEffect(() => {
    store.trackChildren(parentId);
    if (!started) return;
    const ctl = new AbortController();
    listChildren(executionId, parentId, ctl.signal).then(
      (children) => store.setChildren(parentId, children),
      (e: unknown) => {
        const missing = e instanceof ConnectError && e.code === Code.NotFound;
        if (!isAbort(e) && !missing) setError(describeError(e, "list node executions"));
      },
    );
    return () => ctl.abort();
  }, [store, executionId, parentId, started]);
  return error;
}
