// Follows an execution through petrel.v1 WatchService.WatchExecution: the current state first, then every change,
// into one ExecutionStore per page. A stream that drops before the execution finished is opened again after a
// growing, jittered pause (the server sends the whole state again, which the store takes as updates), unless the
// server refused it for a reason that retrying cannot change.
import { Code, ConnectError } from "@connectrpc/connect";
import { useEffect, useMemo } from "react";
import { describeError, isAbort, watch } from "../api";
import { isTerminalWorkflowPhase } from "../ui/PhaseBadge";
import { ExecutionStore } from "./execution-store";

const FIRST_PAUSE_MS = 500;
const MAX_PAUSE_MS = 15_000;
const FINAL = new Set([
  Code.NotFound,
  Code.InvalidArgument,
  Code.PermissionDenied,
  Code.Unauthenticated,
  Code.Unimplemented,
]);

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = window.setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      window.clearTimeout(timer);
      resolve();
    });
  });

async function follow(
  store: ExecutionStore,
  id: { project: string; domain: string; name: string },
  signal: AbortSignal,
): Promise<void> {
  let pause = FIRST_PAUSE_MS;
  while (!signal.aborted) {
    try {
      for await (const event of watch.watchExecution({ id }, { signal })) {
        store.apply(event);
        store.setStatus({ state: "live", error: undefined });
        pause = FIRST_PAUSE_MS;
      }
      const phase = store.execution?.closure?.phase;
      if (phase !== undefined && isTerminalWorkflowPhase(phase)) {
        store.setStatus({ state: "done", error: undefined });
        return;
      }
      store.setStatus({ state: "retrying", error: "the stream ended early" });
    } catch (e) {
      if (signal.aborted || isAbort(e)) return;
      const final = e instanceof ConnectError && FINAL.has(e.code);
      store.setStatus({
        state: final ? "stopped" : "retrying",
        error: describeError(e, "watch this execution"),
      });
      if (final) return;
    }
    await sleep(pause * (0.75 + Math.random() / 2), signal);
    pause = Math.min(pause * 2, MAX_PAUSE_MS);
  }
}

/** The live store of an execution, fed by its watch stream while the caller is mounted. */
export function useExecutionWatch(project: string, domain: string, name: string): ExecutionStore {
  // biome-ignore lint/correctness/useExhaustiveDependencies: one store per execution
  const store = useMemo(() => new ExecutionStore(), [project, domain, name]);
  useEffect(() => {
    const ctl = new AbortController();
    void follow(store, { project, domain, name }, ctl.signal);
    return () => ctl.abort();
  }, [store, project, domain, name]);
  return store;
}
