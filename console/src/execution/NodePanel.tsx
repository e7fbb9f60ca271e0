// The selected node: its phase and times, error, cache status, gate, child execution, inputs and outputs, task
// attempts with their logs, and the node executions under it (dynamic, array and sub-workflow children).
import { useEffect, useRef } from "react";
import { CatalogCacheStatus } from "../../../gen/flyteidl/core/catalog_pb.js";
import {
  ExecutionError_ErrorKind,
  NodeExecution_Phase as NodePhase,
} from "../../../gen/flyteidl/core/execution_pb.js";
import type { WorkflowExecutionIdentifier } from "../../../gen/flyteidl/core/identifier_pb.js";
import type { Node } from "../../../gen/flyteidl/core/workflow_pb.js";
import { Link, paths } from "../router";
import { PhaseBadge, phaseColor } from "../ui/PhaseBadge";
import { Elapsed, Time } from "../ui/Time";
import { Attempts } from "./Attempts";
import type { ExecutionStore } from "./execution-store";
import { KIND_LABELS } from "./GraphNodeView";
import { type GraphNode, graphNode, type NodeKind } from "./graph-model";
import { NodeData } from "./NodeData";
import { useChildren } from "./use-children";
import { useNodeExecution, useStoreVersion } from "./use-store";

export interface Selection {
  readonly id: string;
  readonly node: GraphNode;
}

interface PanelProps {
  readonly store: ExecutionStore;
  readonly executionId: WorkflowExecutionIdentifier;
  readonly selection: Selection;
  readonly onSelect: (execId: string, node: GraphNode) => void;
  readonly onClose: () => void;
}

const RUNNING = new Set<number>([
  NodePhase.QUEUED,
  NodePhase.RUNNING,
  NodePhase.FAILING,
  NodePhase.DYNAMIC_RUNNING,
]);

function GateInfo({ spec, running }: { spec: Node | undefined; running: boolean }) {
  const c = spec?.target.case === "gateNode" ? spec.target.value.condition : undefined;
  if (c === undefined || c.case === undefined) return null;
  if (c.case === "sleep") return <p>Sleeps for {String(c.value.duration?.seconds ?? 0n)}s.</p>;
  return (
    <p>
      {c.case === "approve" ? "Waits for approval" : "Waits for input"} on signal{" "}
      <code>{c.value.signalId}</code>
      {running && (
        <>
          {" "}
          — <a href={`#signal-${c.value.signalId}`}>answer it</a>
        </>
      )}
      .
    </p>
  );
}

function NodeChildren({
  store,
  executionId,
  id,
  onSelect,
}: Omit<PanelProps, "selection" | "onClose"> & { id: string }) {
  useStoreVersion(store);
  const error = useChildren(store, executionId, id);
  const children = store.childrenOf(id);
  return (
    <section>
      <h4>Nodes inside ({children.length})</h4>
      {error !== undefined && <p className="error-text">{error}</p>}
      <ul className="node-children">
        {children.map((c) => {
          const childId = c.id?.nodeId ?? "";
          const phase = c.closure?.phase ?? 0;
          return (
            <li key={childId}>
              <button
                type="button"
                className="link-button"
                style={{ borderLeftColor: phaseColor("node", phase) }}
                onClick={() => onSelect(childId, graphNode(undefined, childId))}
              >
                {childId}
              </button>{" "}
              <PhaseBadge kind="node" phase={phase} />
            </li>
          );
        })}
      </ul>
    </section>
  );
}

export function NodePanel(props: PanelProps) {
  const { store, executionId, selection } = props;
  // On a narrow screen the panel is under the graph: bring it into view when a node is picked.
  const panel = useRef<HTMLElement>(null);
  useEffect(() => {
    panel.current?.scrollIntoView({ block: "nearest" });
  }, []);
  const { id, node } = selection;
  const exec = useNodeExecution(store, id);
  const c = exec?.closure;
  const phase = c?.phase ?? 0;
  const kind: NodeKind = node.kind === "task" && exec?.metadata?.isDynamic === true ? "dynamic" : node.kind;
  const error = c?.outputResult.case === "error" ? c.outputResult.value : undefined;
  const meta = c?.targetMetadata;
  const child = meta?.case === "workflowNodeMetadata" ? meta.value.executionId : undefined;
  const parent = exec?.metadata?.isParentNode === true || exec?.metadata?.isArray === true;
  return (
    <aside
      className="node-panel"
      data-testid="node-panel"
      aria-label={`Node ${node.label}`}
      ref={panel}
      onKeyDown={(e) => {
        if (e.key === "Escape") props.onClose();
      }}
    >
      <header>
        <h2>{node.label}</h2>
        <button type="button" className="small" onClick={props.onClose} aria-label="Close the node panel">
          Close
        </button>
      </header>
      <dl className="facts">
        <dt>Node</dt>
        <dd>
          <code>{id}</code>
        </dd>
        <dt>Kind</dt>
        <dd>
          {KIND_LABELS[kind]} {node.detail && <span className="muted">{node.detail}</span>}
        </dd>
        <dt>Phase</dt>
        <dd>{exec === undefined ? "not started" : <PhaseBadge kind="node" phase={phase} />}</dd>
        <dt>Started</dt>
        <dd>
          <Time value={c?.startedAt} />
        </dd>
        <dt>Duration</dt>
        <dd>
          <Elapsed started={c?.startedAt} duration={c?.duration} running={RUNNING.has(phase)} />
        </dd>
        {meta?.case === "taskNodeMetadata" && (
          <>
            <dt>Cache</dt>
            <dd>
              {(CatalogCacheStatus[meta.value.cacheStatus] ?? "unknown").toLowerCase().replaceAll("_", " ")}
            </dd>
          </>
        )}
        {child !== undefined && (
          <>
            <dt>Child execution</dt>
            <dd>
              <Link to={paths.execution(child.project, child.domain, child.name)}>{child.name}</Link>
            </dd>
          </>
        )}
      </dl>
      {error !== undefined && (
        <div className="node-error" data-testid="node-error" role="alert">
          <strong>
            {ExecutionError_ErrorKind[error.kind] ?? "UNKNOWN"} error{error.code ? ` · ${error.code}` : ""}
          </strong>
          <pre>{error.message}</pre>
        </div>
      )}
      {kind === "gate" && <GateInfo spec={node.spec} running={RUNNING.has(phase)} />}
      {exec === undefined ? (
        <p className="muted">This node has not started.</p>
      ) : (
        <>
          <NodeData nodeId={id} executionId={executionId} phase={phase} hasDeck={(c?.deckUri ?? "") !== ""} />
          {(kind === "task" || kind === "dynamic") && (
            <Attempts store={store} nodeId={id} executionId={executionId} />
          )}
          {parent && (
            <NodeChildren store={store} executionId={executionId} id={id} onSelect={props.onSelect} />
          )}
        </>
      )}
    </aside>
  );
}
