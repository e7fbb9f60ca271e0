// A Gantt chart of the nodes that started (nested ones too): one row per node from its start to its end (now while it
// runs), its task attempts drawn inside as thinner bars. Redrawn at most once a frame from the store.
import { type Duration, type Timestamp, timestampMs } from "@bufbuild/protobuf/wkt";
import { useState } from "react";
import type { NodeExecution } from "../../../gen/flyteidl/admin/node_execution_pb.js";
import { isTerminalWorkflowPhase, phaseColor, phaseName } from "../ui/PhaseBadge";
import { durationMs, formatMs, isSet, useNow } from "../ui/Time";
import type { ExecutionStore } from "./execution-store";
import { useStoreVersion } from "./use-store";

interface Span {
  readonly start: number;
  readonly end: number;
}

const SKIPPED = new Set(["start-node", "end-node"]);
/** Rows drawn before "Show all" (a 1,000-node workflow's chart is read from its start). */
const FIRST_ROWS = 100;

function spanOf(
  started: Timestamp | undefined,
  duration: Duration | undefined,
  updated: Timestamp | undefined,
  running: boolean,
  now: number,
): Span | undefined {
  if (!isSet(started)) return undefined;
  const start = timestampMs(started);
  if (running) return { start, end: Math.max(start, now) };
  const d = durationMs(duration);
  const end = d > 0 ? start + d : isSet(updated) ? timestampMs(updated) : start;
  return { start, end };
}

const startMs = (n: NodeExecution) => {
  const s = n.closure?.startedAt;
  return isSet(s) ? timestampMs(s) : 0;
};

const RUNNING_NAMES = new Set(["QUEUED", "RUNNING", "FAILING", "DYNAMIC_RUNNING", "INITIALIZING"]);
const isRunning = (kind: "node" | "task", phase: number) => RUNNING_NAMES.has(phaseName(kind, phase));

function Row(props: {
  node: NodeExecution;
  store: ExecutionStore;
  now: number;
  scale: (t: number) => number;
  onSelect: (id: string) => void;
}) {
  const { node, store, now, scale } = props;
  const id = node.id?.nodeId ?? "";
  const c = node.closure;
  const phase = c?.phase ?? 0;
  const span = spanOf(c?.startedAt, c?.duration, c?.updatedAt, isRunning("node", phase), now);
  if (span === undefined) return null;
  const place = (s: Span) => ({
    left: `${scale(s.start)}%`,
    width: `${Math.max(0.3, scale(s.end) - scale(s.start))}%`,
  });
  return (
    <li className="tl-row">
      <button type="button" className="tl-label link-button" onClick={() => props.onSelect(id)} title={id}>
        {id}
      </button>
      <div className="tl-track">
        <div
          className="tl-bar"
          style={{ ...place(span), background: phaseColor("node", phase) }}
          title={`${id}: ${phaseName("node", phase)}, ${formatMs(span.end - span.start)}`}
        />
        {store.attemptsOf(id).map((a) => {
          const ac = a.closure;
          const ap = ac?.phase ?? 0;
          const s = spanOf(ac?.startedAt, ac?.duration, ac?.updatedAt, isRunning("task", ap), now);
          if (s === undefined) return null;
          return (
            <div
              key={a.id?.retryAttempt ?? 0}
              className="tl-attempt"
              style={{ ...place(s), background: phaseColor("task", ap) }}
              title={`attempt ${a.id?.retryAttempt ?? 0}: ${phaseName("task", ap)}, ${formatMs(s.end - s.start)}`}
            />
          );
        })}
      </div>
    </li>
  );
}

export function Timeline(props: { store: ExecutionStore; onSelect: (id: string) => void }) {
  const { store } = props;
  useStoreVersion(store);
  const phase = store.execution?.closure?.phase;
  const now = useNow(phase !== undefined && !isTerminalWorkflowPhase(phase));
  const [all, setAll] = useState(false);
  const nodes = [...store.allNodes()]
    .filter((n) => !SKIPPED.has(n.id?.nodeId ?? "") && isSet(n.closure?.startedAt))
    .sort((a, b) => startMs(a) - startMs(b));
  const starts = nodes.map(startMs);
  const execStart = store.execution?.closure?.startedAt;
  const t0 = isSet(execStart) ? timestampMs(execStart) : Math.min(...starts, now);
  const ends = nodes.map((n) => {
    const c = n.closure;
    return spanOf(c?.startedAt, c?.duration, c?.updatedAt, isRunning("node", c?.phase ?? 0), now)?.end ?? t0;
  });
  const t1 = Math.max(t0 + 1, ...ends);
  const scale = (t: number) => ((t - t0) / (t1 - t0)) * 100;
  return (
    <section className="timeline" data-testid="timeline" aria-label="Timeline">
      <h2>Timeline</h2>
      {nodes.length === 0 ? (
        <p className="muted">No node has started yet.</p>
      ) : (
        <>
          <div className="tl-axis" aria-hidden="true">
            <span>0s</span>
            <span>{formatMs(t1 - t0)}</span>
          </div>
          <ol className="tl-rows">
            {(all ? nodes : nodes.slice(0, FIRST_ROWS)).map((n) => (
              <Row
                key={n.id?.nodeId}
                node={n}
                store={store}
                now={now}
                scale={scale}
                onSelect={props.onSelect}
              />
            ))}
          </ol>
          {!all && nodes.length > FIRST_ROWS && (
            <button type="button" className="small" onClick={() => setAll(true)}>
              Show all {nodes.length} nodes
            </button>
          )}
        </>
      )}
    </section>
  );
}
