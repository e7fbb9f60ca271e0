// Branch nodes: every case needs a condition over the branch's bound inputs, an else node or an else-error, and
// the branch's outputs are the outputs every taken path produces. Case nodes are renamed as Flyte's compiler does.
import type { BooleanExpression, Operand } from "../../gen/flyteidl/core/condition_pb.js";
import type { LiteralType } from "../../gen/flyteidl/core/types_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import { checkBindings } from "./bindings.js";
import { compileError } from "./compile-errors.js";
import type { NodeInterface, Scope } from "./interfaces.js";
import { innerNodes } from "./requirements.js";
import { isCastable } from "./type-cast.js";

function operandVars(op: Operand | undefined): string[] {
  return op?.val.case === "var" ? [op.val.value] : [];
}

function conditionVars(e: BooleanExpression | undefined): string[] {
  if (e === undefined) return [];
  if (e.expr.case === "conjunction")
    return [...conditionVars(e.expr.value.leftExpression), ...conditionVars(e.expr.value.rightExpression)];
  if (e.expr.case === "comparison")
    return [...operandVars(e.expr.value.leftValue), ...operandVars(e.expr.value.rightValue)];
  return [];
}

function commonOutputs(ifaces: readonly NodeInterface[]): Map<string, LiteralType> {
  const [first, ...rest] = ifaces;
  const out = new Map<string, LiteralType>();
  for (const [k, t] of first?.outputs ?? []) {
    if (
      rest.every((i) => {
        const o = i.outputs.get(k);
        return o !== undefined && isCastable(o, t);
      })
    )
      out.set(k, t);
  }
  return out;
}

/**
 * Flyte's ids for case nodes: every case node (case, other, else) of a branch becomes `<branch id>-<case id>`, and
 * so on down nested branches (`n1-n0-n0`). flytekit numbers case nodes afresh (n0, n1, …), colliding with the
 * top-level ids; bindings are not rewritten, since nothing may bind to a case node.
 */
export function renameCaseNodes(node: Node): void {
  if (node.target.case !== "branchNode") return;
  for (const inner of innerNodes(node)) {
    inner.id = `${node.id}-${inner.id}`;
    renameCaseNodes(inner);
  }
}

/** What compiling a node yields: its interface, the nodes it depends on, and its case nodes' dependencies. */
export interface CompiledNode {
  iface?: NodeInterface;
  deps: Set<string>;
  /** Per case node inside it (at any depth): the nodes its bindings read (start-node included). */
  cases?: Map<string, Set<string>>;
}

export function compileBranch(
  node: Node,
  scope: Scope,
  compileNode: (node: Node, scope: Scope) => CompiledNode,
): CompiledNode {
  const deps = new Set<string>(node.upstreamNodeIds);
  const own = checkBindings(
    node.id,
    node.inputs,
    { inputs: new Map(), outputs: new Map(), openInputs: true },
    scope.lookup,
    scope.errors,
  );
  for (const d of own.deps) deps.add(d);
  const ie = node.target.case === "branchNode" ? node.target.value.ifElse : undefined;
  if (ie?.case === undefined || ie.case.condition === undefined) {
    scope.errors.push(compileError("BranchNodeHasNoCondition", node.id, "Branch node has no condition."));
    return { deps };
  }
  const cases = [ie.case, ...ie.other];
  const thenNodes: Node[] = [];
  for (const c of cases) {
    if (c.condition === undefined)
      scope.errors.push(compileError("BranchNodeHasNoCondition", node.id, "Branch node has no condition."));
    for (const v of conditionVars(c.condition)) {
      if (!own.boundTypes.has(v))
        scope.errors.push(
          compileError("VariableNameNotFound", node.id, `Variable [${v}] not found on node [${node.id}].`),
        );
    }
    if (c.thenNode === undefined)
      scope.errors.push(compileError("BranchNodeIdNotFound", node.id, "Branch case has no node."));
    else thenNodes.push(c.thenNode);
  }
  if (ie.default.case === undefined) {
    scope.errors.push(
      compileError("BranchNodeHasNoDefault", node.id, "Branch node has no default (else) case."),
    );
  } else if (ie.default.case === "elseNode") thenNodes.push(ie.default.value);
  const ifaces: NodeInterface[] = [];
  const caseDeps = new Map<string, Set<string>>();
  // Case nodes' outputs stay out of the scope: downstream nodes bind to the branch, never to a case.
  for (const inner of thenNodes) {
    const r = compileNode(inner, scope);
    for (const d of r.deps) deps.add(d);
    caseDeps.set(inner.id, r.deps);
    for (const [id, ds] of r.cases ?? []) caseDeps.set(id, ds);
    if (r.iface !== undefined) ifaces.push(r.iface);
  }
  const iface = { inputs: new Map(), outputs: commonOutputs(ifaces), openInputs: true };
  return { iface, deps, cases: caseDeps };
}
