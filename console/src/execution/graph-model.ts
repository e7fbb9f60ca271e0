// The drawable shape of a compiled workflow: its nodes (with their kind and a one-line detail) and the edges of its
// connections, plus what a nested node opens into (a sub-workflow's graph, a branch's cases, an array's sub-node).
import type { CompiledWorkflow, CompiledWorkflowClosure } from "../../../gen/flyteidl/core/compiler_pb.js";
import type { Identifier } from "../../../gen/flyteidl/core/identifier_pb.js";
import type { Node } from "../../../gen/flyteidl/core/workflow_pb.js";

export type NodeKind =
  | "start"
  | "end"
  | "task"
  | "dynamic"
  | "branch"
  | "gate"
  | "subworkflow"
  | "launchplan"
  | "array";

export interface GraphNode {
  /** The node's id in its workflow template. */
  readonly id: string;
  readonly label: string;
  readonly kind: NodeKind;
  readonly detail: string;
  readonly spec: Node | undefined;
}

export interface GraphModel {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly (readonly [string, string])[];
}

const START_NODE = "start-node";
const END_NODE = "end-node";

export function nodeKind(spec: Node | undefined, id: string): NodeKind {
  if (id === START_NODE) return "start";
  if (id === END_NODE) return "end";
  const t = spec?.target;
  switch (t?.case) {
    case "workflowNode":
      return t.value.reference.case === "launchplanRef" ? "launchplan" : "subworkflow";
    case "branchNode":
      return "branch";
    case "gateNode":
      return "gate";
    case "arrayNode":
      return "array";
    default:
      return "task";
  }
}

const shortName = (id: Identifier | undefined) => id?.name.split(".").pop() ?? "";

function detailOf(spec: Node | undefined): string {
  const t = spec?.target;
  switch (t?.case) {
    case "taskNode":
      return shortName(t.value.reference.value);
    case "workflowNode":
      return shortName(t.value.reference.value);
    case "branchNode":
      return `${1 + (t.value.ifElse?.other.length ?? 0) + (t.value.ifElse?.default.case === "elseNode" ? 1 : 0)} cases`;
    case "gateNode": {
      const c = t.value.condition;
      if (c.case === "sleep") return `sleep ${c.value.duration?.seconds ?? 0n}s`;
      return c.case === undefined ? "gate" : `${c.case} ${c.value.signalId}`;
    }
    case "arrayNode":
      return `map ${detailOf(t.value.node)}`;
    default:
      return "";
  }
}

export function graphNode(spec: Node | undefined, id: string): GraphNode {
  const label = spec?.metadata?.name || id;
  return { id, label, kind: nodeKind(spec, id), detail: detailOf(spec), spec };
}

const models = new WeakMap<CompiledWorkflow, GraphModel>();

/** A compiled workflow's nodes and edges (start and end included), built once per workflow object. */
export function graphOf(wf: CompiledWorkflow): GraphModel {
  const known = models.get(wf);
  if (known !== undefined) return known;
  const specs = wf.template?.nodes ?? [];
  const nodes = specs.map((n) => graphNode(n, n.id));
  // The compiler adds start-node and end-node to the template; a closure without them gets them here.
  const has = (id: string) => specs.some((n) => n.id === id);
  if (!has(START_NODE)) nodes.unshift(graphNode(undefined, START_NODE));
  if (!has(END_NODE)) nodes.push(graphNode(undefined, END_NODE));
  const ids = new Set(nodes.map((n) => n.id));
  const edges = new Map<string, readonly [string, string]>();
  const add = (from: string, to: string) => {
    edges.set(`${from}\u0000${to}`, [from, to]);
  };
  for (const [to, list] of Object.entries(wf.connections?.upstream ?? {}))
    for (const from of list.ids) add(from, to);
  for (const [from, list] of Object.entries(wf.connections?.downstream ?? {}))
    for (const to of list.ids) add(from, to);
  if (edges.size === 0) {
    for (const n of specs) {
      if (n.upstreamNodeIds.length === 0) add(START_NODE, n.id);
      for (const up of n.upstreamNodeIds) add(up, n.id);
    }
  }
  const model = { nodes, edges: [...edges.values()].filter(([a, b]) => ids.has(a) && ids.has(b)) };
  models.set(wf, model);
  return model;
}

const caseModels = new WeakMap<Node, GraphModel>();

/** A branch's case nodes side by side (only the taken one runs), built once per branch node. */
export function branchCases(spec: Node): GraphModel {
  const known = caseModels.get(spec);
  if (known !== undefined) return known;
  const ifElse = spec.target.case === "branchNode" ? spec.target.value.ifElse : undefined;
  const cases = [ifElse?.case, ...(ifElse?.other ?? [])].flatMap((c) => c?.thenNode ?? []);
  if (ifElse?.default.case === "elseNode") cases.push(ifElse.default.value);
  const model = { nodes: cases.map((n) => graphNode(n, n.id)), edges: [] };
  caseModels.set(spec, model);
  return model;
}

const sameId = (a: Identifier | undefined, b: Identifier | undefined) =>
  a !== undefined &&
  b !== undefined &&
  a.project === b.project &&
  a.domain === b.domain &&
  a.name === b.name &&
  a.version === b.version;

/** The compiled sub-workflow a sub-workflow node runs, from the closure that holds it. */
export function subWorkflowOf(spec: Node, closure: CompiledWorkflowClosure): CompiledWorkflow | undefined {
  const t = spec.target;
  if (t.case !== "workflowNode" || t.value.reference.case !== "subWorkflowRef") return undefined;
  const ref = t.value.reference.value;
  return closure.subWorkflows.find((w) => sameId(w.template?.id, ref));
}

/** The spec ids of every gate node in a closure (in branches and sub-workflows too). */
export function gateNodeIds(closure: CompiledWorkflowClosure): Set<string> {
  const ids = new Set<string>();
  const visit = (n: Node | undefined) => {
    const t = n?.target;
    if (n === undefined || t === undefined) return;
    if (t.case === "gateNode") ids.add(n.id);
    if (t.case === "arrayNode") visit(t.value.node);
    if (t.case === "branchNode") for (const c of branchCases(n).nodes) visit(c.spec);
  };
  for (const wf of [closure.primary, ...closure.subWorkflows])
    for (const n of wf?.template?.nodes ?? []) visit(n);
  return ids;
}
