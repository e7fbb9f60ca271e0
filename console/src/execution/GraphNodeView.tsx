// One node of the graph: a focusable button coloured by its execution's phase. It listens to its own node id in the
// store, so a phase change re-renders this node and nothing else.
import { type CSSProperties, memo } from "react";
import { phaseColor, phaseName } from "../ui/PhaseBadge";
import type { ExecutionStore } from "./execution-store";
import type { GraphNode, NodeKind } from "./graph-model";
import { useNodeExecution } from "./use-store";

export const KIND_LABELS: Record<NodeKind, string> = {
  start: "start",
  end: "end",
  task: "task",
  dynamic: "dynamic",
  branch: "branch",
  gate: "gate",
  subworkflow: "sub-workflow",
  launchplan: "launch plan",
  array: "map",
};

const EXPANDABLE = new Set<NodeKind>(["subworkflow", "branch", "dynamic", "array"]);

export interface GraphNodeProps {
  readonly node: GraphNode;
  /** The node execution's unique id (nested nodes: `<parent>-<attempt>-<spec id>`). */
  readonly execId: string;
  readonly x: number;
  readonly y: number;
  readonly store: ExecutionStore;
  readonly selected: boolean;
  readonly expanded: boolean;
  readonly onSelect: (execId: string, node: GraphNode) => void;
  readonly onToggle: (execId: string, node: GraphNode) => void;
}

export const GraphNodeView = memo(function GraphNodeView(props: GraphNodeProps) {
  const { node, execId, selected, expanded } = props;
  const exec = useNodeExecution(props.store, execId);
  const phase = exec?.closure?.phase ?? 0;
  const kind: NodeKind = node.kind === "task" && exec?.metadata?.isDynamic === true ? "dynamic" : node.kind;
  const name = phaseName("node", phase);
  const style = { left: props.x, top: props.y, "--phase": phaseColor("node", phase) } as CSSProperties;
  const state = exec === undefined ? "not started" : name.toLowerCase().replaceAll("_", " ");
  const expandable = EXPANDABLE.has(kind);
  return (
    <div
      className={`gnode gnode-${kind}${exec === undefined ? " gnode-idle" : ""}${expandable ? " gnode-expandable" : ""}`}
      style={style}
    >
      <button
        type="button"
        className="gnode-body"
        data-testid="graph-node"
        data-node-id={execId}
        data-phase={name}
        aria-pressed={selected}
        aria-label={`${KIND_LABELS[kind]} ${node.label}: ${state}`}
        title={`${node.label} (${execId})\n${KIND_LABELS[kind]}${node.detail ? ` · ${node.detail}` : ""}\n${state}`}
        onClick={() => props.onSelect(execId, node)}
      >
        <span className="gnode-kind">{KIND_LABELS[kind]}</span>
        <span className="gnode-label">{node.label}</span>
        {node.detail !== "" && <span className="gnode-detail">{node.detail}</span>}
      </button>
      {expandable && (
        <button
          type="button"
          className="gnode-expand"
          aria-expanded={expanded}
          aria-label={`${expanded ? "Collapse" : "Expand"} ${node.label}`}
          onClick={() => props.onToggle(execId, node)}
        >
          {expanded ? "−" : "+"}
        </button>
      )}
    </div>
  );
});
