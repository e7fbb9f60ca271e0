// A node's task attempts: phase, retry number, times, error, and each TaskLog link with its text shown inline (read
// from the URI the server gave, again whenever the attempt changes or on Refresh).
import { useEffect, useState } from "react";
import type { TaskExecution } from "../../../gen/flyteidl/admin/task_execution_pb.js";
import { type TaskLog, TaskExecution_Phase as TaskPhase } from "../../../gen/flyteidl/core/execution_pb.js";
import type { WorkflowExecutionIdentifier } from "../../../gen/flyteidl/core/identifier_pb.js";
import { authHeaders, describeError, isAbort } from "../api";
import { PhaseBadge } from "../ui/PhaseBadge";
import { Elapsed, Time } from "../ui/Time";
import type { ExecutionStore } from "./execution-store";
import { listAttempts } from "./listings";
import { useAttempts } from "./use-store";

const RUNNING_TASK = new Set<number>([
  TaskPhase.QUEUED,
  TaskPhase.RUNNING,
  TaskPhase.INITIALIZING,
  TaskPhase.WAITING_FOR_RESOURCES,
]);
const LOG_ROUTE = "/api/v1/logs/";

/**
 * Where to read a log. The server's own log links are read from the origin this console was served from (the same
 * server), which works behind a proxy that rewrites hosts; links to anywhere else are used as given.
 */
export function logUrl(uri: string): string {
  try {
    const u = new URL(uri, window.location.href);
    return u.pathname.startsWith(LOG_ROUTE) ? `${window.location.origin}${u.pathname}${u.search}` : u.href;
  } catch {
    return uri;
  }
}

function LogView({ log, version }: { log: TaskLog; version: string }) {
  const [text, setText] = useState<{ body?: string; error?: string }>({});
  const [refresh, setRefresh] = useState(0);
  const url = logUrl(log.uri);
  // biome-ignore lint/correctness/useExhaustiveDependencies: read again when the attempt changes or on Refresh
  useEffect(() => {
    const ctl = new AbortController();
    fetch(url, { signal: ctl.signal, credentials: "same-origin", headers: authHeaders() })
      .then(async (res) => {
        if (res.status === 401) throw new Error("sign in to read task logs");
        if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
        setText({ body: await res.text() });
      })
      .catch((e: unknown) => {
        if (!isAbort(e)) setText({ error: `Could not read the log (${describeError(e)})` });
      });
    return () => ctl.abort();
  }, [url, version, refresh]);
  return (
    <div className="log">
      <div className="log-head">
        <strong>{log.name || "log"}</strong>{" "}
        <a href={url} target="_blank" rel="noreferrer">
          Open
        </a>{" "}
        <button type="button" className="small" onClick={() => setRefresh((n) => n + 1)}>
          Refresh
        </button>
      </div>
      {text.error !== undefined ? (
        <p className="error-text">{text.error}</p>
      ) : (
        <pre className="log-text">
          {text.body === undefined ? "Loading…" : text.body === "" ? "(empty)" : text.body}
        </pre>
      )}
    </div>
  );
}

function Attempt({ attempt }: { attempt: TaskExecution }) {
  const c = attempt.closure;
  const error = c?.outputResult.case === "error" ? c.outputResult.value : undefined;
  const version = `${c?.phase}@${c?.updatedAt?.seconds}.${c?.updatedAt?.nanos}`;
  return (
    <li className="attempt">
      <div>
        Attempt {attempt.id?.retryAttempt ?? 0} <PhaseBadge kind="task" phase={c?.phase ?? 0} /> started{" "}
        <Time value={c?.startedAt} />, ran{" "}
        <Elapsed started={c?.startedAt} duration={c?.duration} running={RUNNING_TASK.has(c?.phase ?? 0)} />
      </div>
      {c?.reason ? <p className="muted">{c.reason}</p> : null}
      {error !== undefined && (
        <p className="error-text">
          {error.code}: {error.message}
        </p>
      )}
      {(c?.logs ?? []).map((log) => (
        <LogView key={log.uri} log={log} version={version} />
      ))}
    </li>
  );
}

export function Attempts(props: {
  store: ExecutionStore;
  nodeId: string;
  executionId: WorkflowExecutionIdentifier;
}) {
  const { store, nodeId, executionId } = props;
  const attempts = useAttempts(store, nodeId);
  const [error, setError] = useState<string>();
  useEffect(() => {
    const ctl = new AbortController();
    listAttempts(executionId, nodeId, ctl.signal).then(
      (list) => store.putAttempts(list),
      (e: unknown) => {
        if (!isAbort(e)) setError(describeError(e, "list task executions"));
      },
    );
    return () => ctl.abort();
  }, [store, executionId, nodeId]);
  return (
    <section data-testid="node-logs">
      <h4>Attempts and logs</h4>
      {error !== undefined && <p className="error-text">{error}</p>}
      {attempts.length === 0 ? (
        <p className="muted">No task attempts.</p>
      ) : (
        <ol className="attempts">
          {attempts.map((a) => (
            <Attempt key={a.id?.retryAttempt ?? 0} attempt={a} />
          ))}
        </ol>
      )}
    </section>
  );
}
