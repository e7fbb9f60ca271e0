// The execution's name, live phase, launch plan and workflow, times, failure, and its actions: Terminate (after a
// confirmation), Relaunch and Recover (both open the new execution).
import { useState } from "react";
import type { Execution } from "../../../gen/flyteidl/admin/execution_pb.js";
import type { WorkflowExecutionIdentifier } from "../../../gen/flyteidl/core/identifier_pb.js";
import { admin, describeError } from "../api";
import { Link, navigate, paths } from "../router";
import { isTerminalWorkflowPhase, PhaseBadge, phaseName } from "../ui/PhaseBadge";
import { Elapsed, Time } from "../ui/Time";
import type { WatchStatus } from "./execution-store";

const STATUS_TEXT: Record<WatchStatus["state"], string> = {
  connecting: "connecting…",
  live: "live",
  retrying: "reconnecting…",
  done: "finished",
  stopped: "not live",
};

function Failure({ execution }: { execution: Execution }) {
  const r = execution.closure?.outputResult;
  if (r?.case === "error") {
    return (
      <div className="execution-error" role="alert">
        <strong>{r.value.code || "Failed"}</strong>
        <pre>{r.value.message}</pre>
      </div>
    );
  }
  if (r?.case === "abortMetadata") {
    return (
      <p className="muted">
        Terminated{r.value.principal ? ` by ${r.value.principal}` : ""}: {r.value.cause}
      </p>
    );
  }
  return null;
}

function Actions({ id, terminal }: { id: WorkflowExecutionIdentifier; terminal: boolean }) {
  const [confirming, setConfirming] = useState(false);
  const [cause, setCause] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = async (what: string, call: () => Promise<WorkflowExecutionIdentifier | undefined>) => {
    setBusy(true);
    setError(undefined);
    try {
      const next = await call();
      setConfirming(false);
      if (next !== undefined) navigate(paths.execution(next.project, next.domain, next.name));
    } catch (e) {
      setError(describeError(e, `${what} executions in ${id.project}/${id.domain}`));
    } finally {
      setBusy(false);
    }
  };
  const terminate = () =>
    run("terminate", async () => {
      await admin.terminateExecution({ id, cause: cause || "terminated from the console" });
      return undefined;
    });
  const relaunch = () => run("relaunch", async () => (await admin.relaunchExecution({ id, name: "" })).id);
  const recover = () => run("recover", async () => (await admin.recoverExecution({ id, name: "" })).id);
  return (
    <div className="execution-actions">
      {!terminal && !confirming && (
        <button type="button" className="danger" data-testid="terminate" onClick={() => setConfirming(true)}>
          Terminate
        </button>
      )}
      {confirming && (
        <form
          className="confirm"
          onSubmit={(e) => {
            e.preventDefault();
            void terminate();
          }}
        >
          <label>
            Cause <input value={cause} onChange={(e) => setCause(e.target.value)} placeholder="optional" />
          </label>
          <button type="submit" className="danger" data-testid="terminate-confirm" disabled={busy}>
            Terminate now
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </form>
      )}
      <button type="button" data-testid="relaunch" disabled={busy} onClick={() => void relaunch()}>
        Relaunch
      </button>
      {terminal && (
        <button type="button" data-testid="recover" disabled={busy} onClick={() => void recover()}>
          Recover
        </button>
      )}
      {error !== undefined && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

export function ExecutionHeader(props: {
  id: WorkflowExecutionIdentifier;
  execution: Execution | undefined;
  status: WatchStatus;
}) {
  const { id, execution, status } = props;
  const c = execution?.closure;
  const phase = c?.phase ?? 0;
  const terminal = isTerminalWorkflowPhase(phase);
  const lp = execution?.spec?.launchPlan;
  const wf = c?.workflowId;
  return (
    <header className="execution-header">
      <div className="execution-title">
        <h1>{id.name}</h1>
        <span data-testid="execution-phase" data-phase={phaseName("workflow", phase)}>
          <PhaseBadge kind="workflow" phase={phase} />
        </span>
        <span className={`watch-status watch-${status.state}`} aria-live="polite" title={status.error}>
          {STATUS_TEXT[status.state]}
          {status.error !== undefined && status.state !== "live" ? ` (${status.error})` : ""}
        </span>
      </div>
      <dl className="facts inline">
        {lp !== undefined && lp.name !== "" && (
          <>
            <dt>Launch plan</dt>
            <dd>
              <Link to={paths.entity("launch_plans", lp.project, lp.domain, lp.name, lp.version)}>
                {lp.name}
              </Link>
            </dd>
          </>
        )}
        {wf !== undefined && (
          <>
            <dt>Workflow</dt>
            <dd>
              <Link to={paths.entity("workflows", wf.project, wf.domain, wf.name, wf.version)}>
                {wf.name}
              </Link>
            </dd>
          </>
        )}
        <dt>Started</dt>
        <dd>
          <Time value={c?.startedAt} />
        </dd>
        <dt>Duration</dt>
        <dd>
          <Elapsed
            started={c?.startedAt}
            duration={c?.duration}
            running={execution !== undefined && !terminal}
          />
        </dd>
      </dl>
      {execution !== undefined && <Failure execution={execution} />}
      {execution !== undefined && <Actions id={id} terminal={terminal} />}
    </header>
  );
}
