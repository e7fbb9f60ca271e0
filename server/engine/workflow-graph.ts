// The static shape of one workflow level, built once per compiled workflow: its user nodes in template order, who
// waits for whom, and which nodes' outputs each node's bindings read. WorkflowPlan (workflow-plan.ts) plans on it.
import type { CompiledWorkflow } from "../../gen/flyteidl/core/compiler_pb.js";
import type { Binding, BindingData } from "../../gen/flyteidl/core/literals_pb.js";
import { type Node, WorkflowMetadata_OnFailurePolicy } from "../../gen/flyteidl/core/workflow_pb.js";
import { walkNodes } from "../compiler/requirements.js";

/** What never changes about a workflow level: its nodes, their order, and who waits for whom. */
export interface WorkflowGraph {
  /** User nodes (start and end excluded), in template order. */
  readonly nodes: readonly Node[];
  readonly index: ReadonlyMap<string, number>;
  /** Per node: how many upstream references must finish before it can start ("start-node" excluded). */
  readonly upstreamCount: readonly number[];
  /** Per node: the user nodes that list it as upstream (once per listing). */
  readonly downstream: readonly (readonly number[])[];
  /** Per node: the nodes whose outputs its bindings read (nested branch and array nodes included). */
  readonly promised: readonly (readonly string[])[];
  readonly endBindings: readonly Binding[];
  readonly failureNode: Node | undefined;
  readonly failAfterExecutable: boolean;
}

const graphs = new WeakMap<CompiledWorkflow, WorkflowGraph>();

function promisedNodes(d: BindingData | undefined, into: Set<string>): void {
  const v = d?.value;
  if (v?.case === "promise") into.add(v.value.nodeId);
  if (v?.case === "collection") for (const b of v.value.bindings) promisedNodes(b, into);
  if (v?.case === "map") for (const b of Object.values(v.value.bindings)) promisedNodes(b, into);
}

/** The ids of the nodes whose outputs these bindings read. */
export function promisedBy(bindings: readonly Binding[]): string[] {
  const ids = new Set<string>();
  for (const b of bindings) promisedNodes(b.binding, ids);
  return [...ids];
}

/** The graph of a compiled workflow, built once per workflow object. */
export function workflowGraph(workflow: CompiledWorkflow): WorkflowGraph {
  const known = graphs.get(workflow);
  if (known !== undefined) return known;
  const nodes = (workflow.template?.nodes ?? []).filter((n) => n.id !== "start-node" && n.id !== "end-node");
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  const up = workflow.connections?.upstream ?? {};
  const downstream: number[][] = nodes.map(() => []);
  const upstreamCount = nodes.map((n, i) => {
    let count = 0;
    for (const u of up[n.id]?.ids ?? []) {
      if (u === "start-node") continue;
      count++;
      const j = index.get(u);
      if (j !== undefined) downstream[j]?.push(i); // an unknown upstream never finishes: the node never starts
    }
    return count;
  });
  const promised = nodes.map((n) => promisedBy([...walkNodes(n)].flatMap((inner) => inner.inputs)));
  const end = workflow.template?.nodes.find((n) => n.id === "end-node");
  const graph: WorkflowGraph = {
    nodes,
    index,
    upstreamCount,
    downstream,
    promised,
    endBindings: end?.inputs ?? workflow.template?.outputs ?? [],
    failureNode: workflow.template?.failureNode,
    failAfterExecutable:
      workflow.template?.metadata?.onFailure ===
      WorkflowMetadata_OnFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE,
  };
  graphs.set(workflow, graph);
  return graph;
}
