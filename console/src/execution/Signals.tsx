// The running execution's pending signals (SignalService.ListSignals, read again whenever a gate node changes phase): Approve /
// Reject for boolean ones, a typed input for the rest (its text turned into a Literal by the signal's LiteralType).
import { create } from "@bufbuild/protobuf";
import { type FormEvent, useMemo, useState } from "react";
import type { Signal } from "../../../gen/flyteidl/admin/signal_pb.js";
import type { WorkflowExecutionIdentifier } from "../../../gen/flyteidl/core/identifier_pb.js";
import { LiteralSchema } from "../../../gen/flyteidl/core/literals_pb.js";
import { SimpleType } from "../../../gen/flyteidl/core/types_pb.js";
import { describeError, signals } from "../api";
import { fromText } from "../launch/literal-text";
import { ErrorBanner } from "../ui/ErrorBanner";
import { typeLabel } from "../ui/literal-type";
import { isTerminalWorkflowPhase } from "../ui/PhaseBadge";
import { useLoad } from "../ui/useLoad";
import type { ExecutionStore } from "./execution-store";
import { useStoreVersion } from "./use-store";

const booleanLiteral = (value: boolean) =>
  create(LiteralSchema, {
    value: {
      case: "scalar",
      value: { value: { case: "primitive", value: { value: { case: "boolean", value } } } },
    },
  });

function SignalRow({
  signal,
  action,
  onAnswered,
}: {
  signal: Signal;
  action: string;
  onAnswered: () => void;
}) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const id = signal.id?.signalId ?? "";
  const t = signal.type;
  const isBool = t?.type.case === "simple" && t.type.value === SimpleType.BOOLEAN;
  const multiline = t !== undefined && t.type.case !== "simple" && t.type.case !== "enumType";
  const send = async (value: ReturnType<typeof booleanLiteral>) => {
    setBusy(true);
    setError(undefined);
    try {
      await signals.setSignal({ id: signal.id, value });
      onAnswered();
    } catch (e) {
      setError(describeError(e, action));
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (t === undefined) return;
    try {
      void send(fromText(text, t));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const inputProps = {
    id: `signal-input-${id}`,
    "data-testid": "signal-input",
    value: text,
    onChange: (e: { target: { value: string } }) => setText(e.target.value),
  };
  return (
    <li className="signal" id={`signal-${id}`} data-testid={`signal-${id}`}>
      {isBool ? (
        <div className="signal-actions">
          <span>
            <code>{id}</code> waits for approval
          </span>
          <button
            type="button"
            data-testid="signal-approve"
            disabled={busy}
            onClick={() => void send(booleanLiteral(true))}
          >
            Approve
          </button>
          <button
            type="button"
            className="danger"
            data-testid="signal-reject"
            disabled={busy}
            onClick={() => void send(booleanLiteral(false))}
          >
            Reject
          </button>
        </div>
      ) : (
        <form className="signal-actions" onSubmit={submit}>
          <label htmlFor={`signal-input-${id}`}>
            <code>{id}</code> waits for input ({typeLabel(t)})
          </label>
          {multiline ? <textarea rows={3} {...inputProps} /> : <input {...inputProps} />}
          <button type="submit" data-testid="signal-submit" disabled={busy}>
            Send
          </button>
        </form>
      )}
      {error !== undefined && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

/** The phases of the gate nodes seen so far: a new signal appears when one of them starts. */
function useGateKey(store: ExecutionStore, gateIds: ReadonlySet<string>): string {
  const version = useStoreVersion(store);
  // biome-ignore lint/correctness/useExhaustiveDependencies: recomputed as the store changes
  return useMemo(() => {
    const parts: string[] = [String(store.execution?.closure?.phase ?? 0)];
    for (const n of store.allNodes()) {
      const spec = n.metadata?.specNodeId || n.id?.nodeId || "";
      if (gateIds.has(spec)) parts.push(`${n.id?.nodeId}:${n.closure?.phase}`);
    }
    return parts.join(",");
  }, [store, gateIds, version]);
}

export function Signals(props: {
  store: ExecutionStore;
  executionId: WorkflowExecutionIdentifier;
  gateIds: ReadonlySet<string>;
}) {
  const { executionId } = props;
  const key = useGateKey(props.store, props.gateIds);
  const list = useLoad(
    (signal) => signals.listSignals({ workflowExecutionId: executionId, limit: 100 }, { signal }),
    [executionId, key],
  );
  const phase = props.store.execution?.closure?.phase;
  const finished = phase !== undefined && isTerminalWorkflowPhase(phase);
  const pending = finished ? [] : (list.data?.signals ?? []).filter((s) => s.value === undefined);
  const action = `answer signals in ${executionId.project}/${executionId.domain}`;
  if (list.error !== undefined)
    return <ErrorBanner error={list.error} action="list signals" onRetry={list.reload} />;
  if (pending.length === 0) return null;
  return (
    <section className="signals" aria-label="Pending signals">
      <h2>Waiting for you</h2>
      <ul>
        {pending.map((s) => (
          <SignalRow key={s.id?.signalId} signal={s} action={action} onAnswered={list.reload} />
        ))}
      </ul>
    </section>
  );
}
