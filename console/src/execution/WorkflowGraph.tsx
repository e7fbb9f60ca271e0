// The execution's workflow graph, with the nodes the user expanded drawn as nested graphs below it (collapsing a
// node closes what was expanded inside it too).
import { memo, useCallback, useMemo, useState } from "react";
import type { CompiledWorkflowClosure } from "../../../gen/flyteidl/core/compiler_pb.js";
import type { WorkflowExecutionIdentifier } from "../../../gen/flyteidl/core/identifier_pb.js";
import type { ExecutionStore } from "./execution-store";
import { GraphView } from "./GraphView";
import { type GraphNode, graphOf } from "./graph-model";
import { type Expansion, NestedGraph } from "./NestedGraph";

export interface WorkflowGraphProps {
  readonly closure: CompiledWorkflowClosure;
  readonly store: ExecutionStore;
  readonly executionId: WorkflowExecutionIdentifier;
  readonly selected: string | undefined;
  readonly onSelect: (execId: string, node: GraphNode) => void;
}

/** Memoised: the page re-renders for its own reasons (selection, loads) without touching a 1,000-node graph. */
export const WorkflowGraph = memo(function WorkflowGraph(props: WorkflowGraphProps) {
  const { closure, store, executionId, selected, onSelect } = props;
  const [open, setOpen] = useState<readonly Expansion[]>([]);
  const expanded = useMemo(() => new Set(open.map((e) => e.id)), [open]);
  const toggle = useCallback((id: string, node: GraphNode, within: CompiledWorkflowClosure) => {
    setOpen((list) =>
      list.some((e) => e.id === id)
        ? list.filter((e) => e.id !== id && !e.id.startsWith(`${id}-`))
        : [...list, { id, node, closure: within }],
    );
  }, []);
  const onToggle = useCallback((id: string, node: GraphNode) => toggle(id, node, closure), [toggle, closure]);
  const primary = closure.primary;
  const model = useMemo(() => (primary === undefined ? undefined : graphOf(primary)), [primary]);
  if (model === undefined) return <p className="muted">This execution's workflow has no compiled graph.</p>;
  return (
    <div className="graphs">
      <GraphView
        testId="graph"
        model={model}
        store={store}
        execIds={undefined}
        selected={selected}
        expanded={expanded}
        onSelect={onSelect}
        onToggle={onToggle}
        label="Workflow graph"
      />
      {open.map((e) => (
        <NestedGraph
          key={e.id}
          expansion={e}
          store={store}
          executionId={executionId}
          selected={selected}
          expanded={expanded}
          onSelect={onSelect}
          toggle={toggle}
        />
      ))}
    </div>
  );
});
