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

function find(nodes: readonly Node[], id: string): Node | undefined {
  return nodes.flatMap((n) => [...walkNodes(n)]).find((n) => n.id === id);
}

export function findSpec(
  closure: CompiledWorkflowClosure,
  rows: readonly NodeExecutionRow[],
  row: NodeExecutionRow,
): Node | undefined {
  const id = specNodeId(row);
  if (row.parent_id === null) return find(closure.primary?.template?.nodes ?? [], id);
  const parent = rows.find((r) => r.id === row.parent_id);
  const parentSpec = parent === undefined ? undefined : findSpec(closure, rows, parent);
  const sub = subWorkflowOf(closure, parentSpec);
  if (sub !== undefined) return find(sub.template?.nodes ?? [], id);
  return parentSpec === undefined ? undefined : find([parentSpec], id);
}

/** Unique id of a node inside a sub-workflow node, as propeller names them: `<parent>-<attempt>-<node>`. */
export const childNodeId = (parentUniqueId: string, specId: string): string =>
  `${parentUniqueId}-0-${specId}`;
