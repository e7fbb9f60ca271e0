// Finds the template node a node execution row runs: top-level rows by id in the primary workflow; rows under a
// parent by their spec id inside the parent's dynamic workflow, sub-workflow, branch cases or array.
import { fromBinary } from "@bufbuild/protobuf";
import { NodeExecutionMetaDataSchema } from "../../gen/flyteidl/admin/node_execution_pb.js";
import type { CompiledWorkflow, CompiledWorkflowClosure } from "../../gen/flyteidl/core/compiler_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import { idKey } from "../compiler/interfaces.js";
import { innerNodes, walkNodes } from "../compiler/requirements.js";
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

/** The compiled workflow a dynamic node's row runs (loaded beforehand), if the row is a dynamic node's. */
export type DynamicLookup = (row: NodeExecutionRow) => CompiledWorkflowClosure | undefined;

/** A template node and the closure it belongs to (the execution's, or a dynamic node's). */
export interface Located {
  readonly node: Node;
  readonly closure: CompiledWorkflowClosure;
}

/**
 * Finds the template node a row runs and the closure holding it: top-level rows in the primary workflow; children
 * of a dynamic node in the workflow it compiled; children of a sub-workflow node in that sub-workflow; children of
 * branches and arrays inside their parent's node.
 */
export function locateSpec(
  closure: CompiledWorkflowClosure,
  parentOf: ParentLookup,
  row: NodeExecutionRow,
  dynamicOf: DynamicLookup = () => undefined,
): Located | undefined {
  const id = specNodeId(row);
  if (row.parent_id === null) {
    const nodes = closure.primary?.template?.nodes ?? [];
    const node = find(nodes, nodes, id);
    return node === undefined ? undefined : { node, closure };
  }
  const parent = parentOf(row.parent_id);
  if (parent === undefined) return undefined;
  const dynamic = dynamicOf(parent);
  if (dynamic !== undefined) {
    const nodes = dynamic.primary?.template?.nodes ?? [];
    const node = find(nodes, nodes, id);
    return node === undefined ? undefined : { node, closure: dynamic };
  }
  const at = locateSpec(closure, parentOf, parent, dynamicOf);
  if (at === undefined) return undefined;
  const sub = subWorkflowOf(at.closure, at.node);
  // Under a branch or an array: the nodes inside it, not the parent itself (whose id a case node may repeat).
  const nodes = sub === undefined ? innerNodes(at.node) : (sub.template?.nodes ?? []);
  const node = find(sub ?? at.node, nodes, id);
  return node === undefined ? undefined : { node, closure: at.closure };
}

export function findSpec(
  closure: CompiledWorkflowClosure,
  parentOf: ParentLookup,
  row: NodeExecutionRow,
  dynamicOf?: DynamicLookup,
): Node | undefined {
  return locateSpec(closure, parentOf, row, dynamicOf)?.node;
}

const taskMaps = new WeakMap<CompiledWorkflowClosure, Map<string, TaskTemplate>>();

/** A closure's task templates by identifier key. */
export function tasksOf(closure: CompiledWorkflowClosure): Map<string, TaskTemplate> {
  let tasks = taskMaps.get(closure);
  if (tasks === undefined) {
    tasks = new Map();
    for (const t of closure.tasks)
      if (t.template?.id !== undefined) tasks.set(idKey(t.template.id), t.template);
    taskMaps.set(closure, tasks);
  }
  return tasks;
}

/** Unique id of a node inside a sub-workflow or dynamic node, as propeller names them: `<parent>-<attempt>-<node>`. */
export const childNodeId = (parentUniqueId: string, specId: string, attempt = 0): string =>
  `${parentUniqueId}-${attempt}-${specId}`;
