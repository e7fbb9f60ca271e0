// What a workflow needs registered before it compiles: tasks and launch plans, from every node at every depth.
import type { WorkflowSpec } from "../../gen/flyteidl/admin/workflow_pb.js";
import type { Identifier } from "../../gen/flyteidl/core/identifier_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import { idKey } from "./interfaces.js";

export interface Requirements {
  readonly tasks: Identifier[];
  readonly launchPlans: Identifier[];
}

/** The nodes directly inside a node: a branch's case nodes (case, other, else) or an array's sub-node. */
export function innerNodes(node: Node): Node[] {
  const t = node.target;
  if (t.case === "arrayNode") return t.value.node === undefined ? [] : [t.value.node];
  if (t.case !== "branchNode") return [];
  const ie = t.value.ifElse;
  const inner = [ie?.case?.thenNode, ...(ie?.other ?? []).map((o) => o.thenNode)];
  if (ie?.default.case === "elseNode") inner.push(ie.default.value);
  return inner.filter((n): n is Node => n !== undefined);
}

/** Every node of a node tree: the node, branch cases and array sub-nodes. */
export function* walkNodes(node: Node): Generator<Node> {
  yield node;
  for (const n of innerNodes(node)) yield* walkNodes(n);
}

export function collectRequirements(spec: WorkflowSpec): Requirements {
  const tasks = new Map<string, Identifier>();
  const launchPlans = new Map<string, Identifier>();
  const templates = [spec.template, ...spec.subWorkflows];
  for (const tpl of templates) {
    const roots = [...(tpl?.nodes ?? []), ...(tpl?.failureNode === undefined ? [] : [tpl.failureNode])];
    for (const root of roots) {
      for (const n of walkNodes(root)) {
        const t = n.target;
        if (t.case === "taskNode" && t.value.reference.case === "referenceId") {
          tasks.set(idKey(t.value.reference.value), t.value.reference.value);
        }
        if (t.case === "workflowNode" && t.value.reference.case === "launchplanRef") {
          launchPlans.set(idKey(t.value.reference.value), t.value.reference.value);
        }
      }
    }
  }
  return { tasks: [...tasks.values()], launchPlans: [...launchPlans.values()] };
}
