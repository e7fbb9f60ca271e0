// What an expanded node holds, drawn under the main graph: a sub-workflow's graph, a branch's cases, a dynamic
// node's generated workflow (GetDynamicNodeWorkflow) or an array's elements. Its node executions are the parent's
// children (ListNodeExecutions with unique_parent_id), then whatever the watch stream adds under it.
import { useMemo, useRef } from "react";
import type { NodeExecution } from "../../../gen/flyteidl/admin/node_execution_pb.js";
import type { CompiledWorkflowClosure } from "../../../gen/flyteidl/core/compiler_pb.js";
import type { WorkflowExecutionIdentifier } from "../../../gen/flyteidl/core/identifier_pb.js";
import { admin } from "../api";
import { useLoad } from "../ui/useLoad";
import { childNodeId, type ExecutionStore } from "./execution-store";
import { KIND_LABELS } from "./GraphNodeView";
import { GraphView } from "./GraphView";
import {
  branchCases,
  type GraphModel,
  type GraphNode,
  graphNode,
  graphOf,
  subWorkflowOf,
} from "./graph-model";
import { useChildren } from "./use-children";
import { useNodeExecution, useStoreVersion } from "./use-store";

export interface Expansion {
  /** The expanded node's execution id. */
  readonly id: string;
  readonly node: GraphNode;
  /** The closure its spec came from (sub-workflows are looked up in it). */
  readonly closure: CompiledWorkflowClosure;
}

export interface NestedGraphProps {
  readonly expansion: Expansion;
  readonly store: ExecutionStore;
  readonly executionId: WorkflowExecutionIdentifier;
  readonly selected: string | undefined;
  readonly expanded: ReadonlySet<string>;
  readonly onSelect: (execId: string, node: GraphNode) => void;
  readonly toggle: (execId: string, node: GraphNode, closure: CompiledWorkflowClosure) => void;
}

const elementIndex = (parentId: string, n: NodeExecution) =>
  Number((n.id?.nodeId ?? "").slice(parentId.length + 1));

/** An array node's elements, in index order, as nodes of its sub-node's kind. */
function useArrayModel(store: ExecutionStore, expansion: Expansion, enabled: boolean): GraphModel {
  useStoreVersion(store);
  const spec = expansion.node.spec;
  const inner = spec?.target.case === "arrayNode" ? spec.target.value.node : undefined;
  const children = enabled ? store.childrenOf(expansion.id) : [];
  const key = children.map((c) => c.id?.nodeId).join(",");
  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuilt only when the set of elements changes
  return useMemo(() => {
    const sorted = [...children].sort(
      (a, b) => elementIndex(expansion.id, a) - elementIndex(expansion.id, b),
    );
    const nodes = sorted.map((c) => {
      const id = c.id?.nodeId ?? "";
      const base = graphNode(inner, id);
      return { ...base, label: `${expansion.node.label}[${elementIndex(expansion.id, c)}]` };
    });
    return { nodes, edges: [] };
  }, [key]);
}

/** Each spec node's execution id under the parent: the latest seen, else the first attempt's name. */
function useExecIds(store: ExecutionStore, parentId: string, model: GraphModel | undefined) {
  useStoreVersion(store);
  const last = useRef<Map<string, string>>(new Map());
  const next = new Map<string, string>();
  for (const n of model?.nodes ?? []) {
    next.set(n.id, store.childFor(parentId, n.id)?.id?.nodeId ?? childNodeId(parentId, n.id));
  }
  const same = next.size === last.current.size && [...next].every(([k, v]) => last.current.get(k) === v);
  if (!same) last.current = next;
  return last.current;
}

export function NestedGraph(props: NestedGraphProps) {
  const { expansion, store, executionId, toggle } = props;
  const { id, node, closure } = expansion;
  const exec = useNodeExecution(store, id);
  const dynamic = exec?.metadata?.isDynamic === true;
  const phase = exec?.closure?.phase ?? 0;
  const listError = useChildren(store, executionId, id);
  const generated = useLoad(
    async (signal) =>
      dynamic ? admin.getDynamicNodeWorkflow({ id: { nodeId: id, executionId } }, { signal }) : undefined,
    [dynamic, id, executionId, phase],
  );
  const compiled = generated.data?.compiledWorkflow;
  const array = node.kind === "array";
  const arrayModel = useArrayModel(store, expansion, array);
  let model: GraphModel | undefined;
  let inner = closure;
  if (array) model = arrayModel;
  else if (dynamic) {
    model = compiled?.primary === undefined ? undefined : graphOf(compiled.primary);
    inner = compiled ?? closure;
  } else if (node.kind === "branch" && node.spec !== undefined) model = branchCases(node.spec);
  else if (node.spec !== undefined) {
    const sub = subWorkflowOf(node.spec, closure);
    model = sub === undefined ? undefined : graphOf(sub);
  }
  const execIds = useExecIds(store, id, array ? undefined : model);
  const onToggle = useMemo(() => (execId: string, n: GraphNode) => toggle(execId, n, inner), [toggle, inner]);
  const kind = dynamic ? "dynamic" : KIND_LABELS[node.kind];
  return (
    <section className="nested-graph" aria-label={`${node.label} (${kind})`}>
      <header>
        <h3>
          {node.label} <small>{kind}</small>
        </h3>
        <button type="button" className="small" onClick={() => toggle(id, node, closure)}>
          Close
        </button>
      </header>
      {listError !== undefined && <p className="error-text">{listError}</p>}
      {model === undefined ? (
        <p className="muted">
          {!dynamic
            ? "Nothing to show inside this node."
            : generated.loading
              ? "Loading…"
              : "The dynamic workflow is not generated yet."}
        </p>
      ) : model.nodes.length === 0 ? (
        <p className="muted">{array ? "No elements have started yet." : "No nodes."}</p>
      ) : (
        <GraphView
          model={model}
          store={store}
          execIds={array ? undefined : execIds}
          selected={props.selected}
          expanded={props.expanded}
          onSelect={props.onSelect}
          onToggle={onToggle}
          label={`Inside ${node.label}`}
          grid={array || node.kind === "branch"}
        />
      )}
    </section>
  );
}
