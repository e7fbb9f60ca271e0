// Finds the template node a node execution row runs: top-level rows by id in the primary workflow; rows under a
// parent by their spec id inside the parent's branch cases or sub-workflow.
import { fromBinary } from "@bufbuild/protobuf";
import { NodeExecutionMetaDataSchema } from "../../gen/flyteidl/admin/node_execution_pb.js";
import type { CompiledWorkflow, CompiledWorkflowClosure } from "../../gen/flyteidl/core/compiler_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import { idKey } from "../compiler/interfaces.js";
import { walkNodes } from "../compiler/requirements.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";

export function specNodeId(row: NodeExecutionRow): string {
  if (row.metadata === null) return row.node_id;
  const id = fromBinary(NodeExecutionMetaDataSchema, row.metadata).specNodeId;
  return id === "" ? row.node_id : id;
}

/** The compiled sub-workflow a workflow node refers to, if it is an inline sub-workflow. */
export function subWorkflowOf(
  closure: CompiledWorkflowClosure,
  node: Node | undefined,
): CompiledWorkflow | undefined {
  if (node?.target.case !== "workflowNode" || node.target.value.reference.case !== "subWorkflowRef")
    return undefined;
  const key = idKey(node.target.value.reference.value);
  return closure.subWorkflows.find((s) => idKey(s.template?.id) === key);
}

const indexes = new WeakMap<object, Map<string, Node>>();

/** Finds a node by id among `roots` and the nodes nested in them (branch cases, array sub-nodes). */
function find(key: object, roots: readonly Node[], id: string): Node | undefined {
  let index = indexes.get(key);
  if (index === undefined) {
    index = new Map();
    for (const root of roots) for (const n of walkNodes(root)) if (!index.has(n.id)) index.set(n.id, n);
    indexes.set(key, index);
  }
  return index.get(id);
}

/** A row's parent row by row id. */
export type ParentLookup = (rowId: string) => NodeExecutionRow | undefined;

export function findSpec(
  closure: CompiledWorkflowClosure,
  parentOf: ParentLookup,
  row: NodeExecutionRow,
): Node | undefined {
  const id = specNodeId(row);
  if (row.parent_id === null) {
    const nodes = closure.primary?.template?.nodes ?? [];
    return find(nodes, nodes, id);
  }
  const parent = parentOf(row.parent_id);
  const parentSpec = parent === undefined ? undefined : findSpec(closure, parentOf, parent);
  const sub = subWorkflowOf(closure, parentSpec);
  if (sub !== undefined) {
    const nodes = sub.template?.nodes ?? [];
    return find(nodes, nodes, id);
  }
  return parentSpec === undefined ? undefined : find(parentSpec, [parentSpec], id);
}

/** Unique id of a node inside a sub-workflow node, as propeller names them: `<parent>-<attempt>-<node>`. */
export const childNodeId = (parentUniqueId: string, specId: string): string =>
  `${parentUniqueId}-0-${specId}`;
