// The workflow compiler: resolves every node's interface, checks bindings and conditions, injects start-node and
// end-node, and builds the connections of the primary workflow and each sub-workflow.
import { clone, create } from "@bufbuild/protobuf";
import type { WorkflowSpec } from "../../gen/flyteidl/admin/workflow_pb.js";
import {
  type CompiledWorkflow,
  type CompiledWorkflowClosure,
  CompiledWorkflowClosureSchema,
  CompiledWorkflowSchema,
} from "../../gen/flyteidl/core/compiler_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import {
  type Node,
  NodeSchema,
  type WorkflowTemplate,
  WorkflowTemplateSchema,
} from "../../gen/flyteidl/core/workflow_pb.js";
import { checkBindings, END_NODE, START_NODE } from "./bindings.js";
import { type CompiledNode, compileBranch, renameCaseNodes } from "./compile-branch.js";
import { type CompileError, compileError } from "./compile-errors.js";
import { buildConnections } from "./connections.js";
import {
  type CompileDeps,
  fromTypedInterface,
  idKey,
  type LaunchPlanInterface,
  type NodeInterface,
  nodeInterface,
  Scope,
} from "./interfaces.js";
import { collectRequirements, walkNodes } from "./requirements.js";
import { detectSubWorkflowCycles } from "./sub-workflow-cycles.js";

export type CompileResult =
  | { readonly closure: CompiledWorkflowClosure }
  | { readonly errors: CompileError[] };

/** Compiles one node: its interface, bindings and dependencies (branch and array nodes included). */
export function compileNode(node: Node, scope: Scope): CompiledNode {
  if (node.target.case === "branchNode") return compileBranch(node, scope, compileNode);
  const iface = nodeInterface(node, scope.deps, scope.errors);
  if (iface === undefined) return { deps: new Set(node.upstreamNodeIds) };
  const bound = checkBindings(node.id, node.inputs, iface, scope.lookup, scope.errors);
  for (const u of node.upstreamNodeIds) bound.deps.add(u);
  const outputs = iface.openInputs === true ? bound.boundTypes : iface.outputs;
  return { iface: { ...iface, outputs }, deps: bound.deps };
}

/** Node ids are at most this many UTF-8 bytes: a task attempt's directory is named by its node id. */
const MAX_NODE_ID_BYTES = 255;
const SHOWN_ID_CHARS = 64;

/** Why a node id cannot name a directory or a flyte:// URL segment, or undefined when it can. */
function nodeIdProblem(id: string): string | undefined {
  if (id === "." || id === "..") return `cannot be "${id}"`;
  if (/[/\\]/.test(id)) return 'cannot contain "/" or "\\"';
  if (/\p{Cc}/u.test(id)) return "cannot contain control characters";
  if (Buffer.byteLength(id) > MAX_NODE_ID_BYTES) return `cannot exceed ${MAX_NODE_ID_BYTES} bytes`;
  return undefined;
}

function checkIds(template: WorkflowTemplate, errors: CompileError[]): void {
  const seen = new Set<string>([START_NODE, END_NODE]);
  for (const n of template.nodes) {
    if (n.id === "") errors.push(compileError("ValueRequired", n.id, "Value required [id]."));
    else if (seen.has(n.id))
      errors.push(compileError("DuplicateId", n.id, `Found duplicate node id [${n.id}].`));
    seen.add(n.id);
  }
  const roots =
    template.failureNode === undefined ? template.nodes : [...template.nodes, template.failureNode];
  for (const n of roots.flatMap((root) => [...walkNodes(root)])) {
    // Top-level nodes were checked above; nodes inside branches and arrays, and the failure node, need an id too.
    if (n.id === "" && !template.nodes.includes(n))
      errors.push(compileError("ValueRequired", n.id, "Value required [id]."));
    const problem = nodeIdProblem(n.id);
    if (problem === undefined) continue;
    const shown = n.id.length > SHOWN_ID_CHARS ? `${n.id.slice(0, SHOWN_ID_CHARS)}…` : n.id;
    errors.push(
      compileError("InvalidValue", shown, `Invalid value [${shown}] for [id]: a node id ${problem}.`),
    );
  }
}

function compileTemplate(
  input: WorkflowTemplate,
  deps: CompileDeps,
  errors: CompileError[],
): CompiledWorkflow {
  const template = clone(WorkflowTemplateSchema, input);
  const name = template.id?.name ?? "";
  if (template.nodes.length === 0)
    errors.push(compileError("NoNodesFound", name, "Can't find any nodes in workflow."));
  checkIds(template, errors);
  for (const node of template.nodes) renameCaseNodes(node);
  if (template.failureNode !== undefined) renameCaseNodes(template.failureNode);
  const scope = new Scope(deps, errors);
  const wfIface = fromTypedInterface(template.interface);
  scope.outputs.set(START_NODE, new Map([...wfIface.inputs].map(([k, v]) => [k, v.type] as const)));
  const nodeDeps = new Map<string, Set<string>>();
  const caseDeps = new Map<string, Set<string>>();
  // Some outputs depend on bindings (approve gates pass their inputs through), so node outputs are first resolved
  // in scratch passes, in any order, before the real pass reports errors.
  for (let pass = 0; pass < 2; pass++) {
    const scratch = new Scope(deps, []);
    for (const [k, v] of scope.outputs) scratch.outputs.set(k, v);
    for (const node of template.nodes) {
      const r = compileNode(node, scratch);
      if (r.iface !== undefined) scope.outputs.set(node.id, r.iface.outputs);
    }
  }
  for (const node of template.nodes) {
    const r = compileNode(node, scope);
    if (r.iface !== undefined) scope.outputs.set(node.id, r.iface.outputs);
    r.deps.delete(START_NODE);
    nodeDeps.set(node.id, r.deps);
    for (const [id, ds] of r.cases ?? []) caseDeps.set(id, ds);
  }
  for (const node of template.nodes) {
    for (const d of nodeDeps.get(node.id) ?? []) {
      if (!nodeDeps.has(d))
        errors.push(compileError("NodeReferenceNotFound", node.id, `Referenced node [${d}] not found.`));
    }
  }
  const endIface: NodeInterface = {
    inputs: new Map([...wfIface.outputs].map(([k, type]) => [k, { type, required: true }] as const)),
    outputs: new Map(),
  };
  const end = checkBindings(END_NODE, template.outputs, endIface, scope.lookup, errors);
  end.deps.delete(START_NODE);
  if (template.failureNode !== undefined) compileNode(template.failureNode, scope);
  const connections = buildConnections(nodeDeps, end.deps, caseDeps, errors);
  template.nodes = [
    create(NodeSchema, { id: START_NODE }),
    create(NodeSchema, { id: END_NODE, inputs: template.outputs }),
    ...template.nodes,
  ];
  return create(CompiledWorkflowSchema, { template, connections });
}

export function compileWorkflow(
  spec: WorkflowSpec,
  inputs: { tasks: readonly TaskTemplate[]; launchPlans: readonly LaunchPlanInterface[] },
): CompileResult {
  const errors: CompileError[] = [];
  if (spec.template === undefined)
    return { errors: [compileError("ValueRequired", "", "Value required [template].")] };
  const deps: CompileDeps = {
    tasks: new Map(inputs.tasks.map((t) => [idKey(t.id), t])),
    launchPlans: new Map(inputs.launchPlans.map((lp) => [idKey(lp.id), lp])),
    subWorkflows: new Map(spec.subWorkflows.map((s) => [idKey(s.id), s])),
  };
  const primary = compileTemplate(spec.template, deps, errors);
  const subWorkflows = spec.subWorkflows.map((s) => compileTemplate(s, deps, errors));
  detectSubWorkflowCycles(spec.subWorkflows, errors);
  if (errors.length > 0) return { errors };
  const used = collectRequirements(spec).tasks.map((id) => deps.tasks.get(idKey(id)));
  const tasks = used.filter((t): t is TaskTemplate => t !== undefined).map((template) => ({ template }));
  return { closure: create(CompiledWorkflowClosureSchema, { primary, subWorkflows, tasks }) };
}
