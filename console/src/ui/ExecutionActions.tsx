// Terminate (after a confirmation), relaunch and recover an execution: the buttons that make sense for its phase.
import { useEffect, useRef, useState } from "react";
import type { Execution } from "../../../gen/flyteidl/admin/execution_pb.js";
import { WorkflowExecution_Phase } from "../../../gen/flyteidl/core/execution_pb.js";
import { admin, describeError } from "../api";
import { navigate, paths } from "../router";
import { isTerminalWorkflowPhase } from "./PhaseBadge";

type Busy = "terminate" | "relaunch" | "recover" | undefined;

export function ExecutionActions({ execution }: { execution: Execution }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState<Busy>();
  const [error, setError] = useState<string>();
  const confirmButton = useRef<HTMLButtonElement>(null);
  // Keyboard users land on the confirmation they asked for.
  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
  }, [confirming]);
  const id = execution.id;
  if (id === undefined) return null;
  const phase = execution.closure?.phase ?? WorkflowExecution_Phase.UNDEFINED;
  const where = `${id.project}/${id.domain}`;

  const run = async (what: Exclude<Busy, undefined>, call: () => Promise<void>) => {
    setBusy(what);
    setError(undefined);
    try {
      await call();
    } catch (e) {
      setError(describeError(e, `${what} executions in ${where}`));
    } finally {
      setBusy(undefined);
      setConfirming(false);
    }
  };
  const terminate = () =>
    run("terminate", async () => {
      await admin.terminateExecution({ id, cause: "terminated from the console" });
    });
  const relaunch = () =>
    run("relaunch", async () => {
      const res = await admin.relaunchExecution({ id, name: "" });
      if (res.id !== undefined) navigate(paths.execution(res.id.project, res.id.domain, res.id.name));
    });
  const recover = () =>
    run("recover", async () => {
      const res = await admin.recoverExecution({ id, name: "" });
      if (res.id !== undefined) navigate(paths.execution(res.id.project, res.id.domain, res.id.name));
    });

  return (
    <div className="actions">
      {!isTerminalWorkflowPhase(phase) &&
        (confirming ? (
          <span className="actions">
            <span>Terminate?</span>
            <button
              type="button"
              className="small danger"
              data-testid="terminate-confirm"
              ref={confirmButton}
              disabled={busy !== undefined}
              onClick={() => void terminate()}
            >
              {busy === "terminate" ? "Terminating…" : "Yes, terminate"}
            </button>
            <button type="button" className="small" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <button
            type="button"
            className="small danger"
            data-testid="terminate"
            onClick={() => setConfirming(true)}
          >
            Terminate
          </button>
        ))}
      <button
        type="button"
        className="small"
        data-testid="relaunch"
        disabled={busy !== undefined}
        onClick={() => void relaunch()}
      >
        {busy === "relaunch" ? "Relaunching…" : "Relaunch"}
      </button>
      {phase === WorkflowExecution_Phase.FAILED && (
        <button
          type="button"
          className="small"
          data-testid="recover"
          disabled={busy !== undefined}
          onClick={() => void recover()}
        >
          {busy === "recover" ? "Recovering…" : "Recover"}
        </button>
      )}
      {error !== undefined && (
        <span className="error-text" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
