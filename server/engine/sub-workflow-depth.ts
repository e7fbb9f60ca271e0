// How deep inline sub-workflows nest. The compiler rejects sub-workflows that contain themselves, but a closure
// stored before that check (or edited by hand) may still have one: the engine refuses to start a sub-workflow
// whose nesting is endless or deeper than a fixed limit, instead of recursing until something gives.
import { create } from "@bufbuild/protobuf";
import type { CompiledWorkflow } from "../../gen/flyteidl/core/compiler_pb.js";
import {
  type ExecutionError,
  ExecutionError_ErrorKind,
  ExecutionErrorSchema,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import { walkNodes } from "../compiler/requirements.js";

/**
 * How many levels of inline sub-workflows a sub-workflow node may run, its own included. Flyte sets no limit;
 * 20 is far beyond any real workflow, and the same as the limit on nested child executions.
 */
export const MAX_SUB_WORKFLOW_DEPTH = 20;

/** Per compiled sub-workflow (closures are cached, so these objects are stable): its exact nesting depth. */
const depths = new WeakMap<CompiledWorkflow, number>();

/**
 * Levels of inline sub-workflows that `sub` runs, itself included: 1 when it has no sub-workflow nodes (at any
 * depth of branches, arrays and its failure node), Infinity when it contains itself.
 */
export function subWorkflowDepth(
  sub: CompiledWorkflow,
  resolve: (node: Node) => CompiledWorkflow | undefined,
  open: Set<CompiledWorkflow> = new Set(),
): number {
  const known = depths.get(sub);
  if (known !== undefined) return known;
  if (open.has(sub)) return Number.POSITIVE_INFINITY;
  open.add(sub);
  const t = sub.template;
  const roots = [...(t?.nodes ?? []), ...(t?.failureNode === undefined ? [] : [t.failureNode])];
  let deepest = 0;
  for (const root of roots) {
    for (const n of walkNodes(root)) {
      const inner = resolve(n);
      if (inner !== undefined) deepest = Math.max(deepest, subWorkflowDepth(inner, resolve, open));
    }
  }
  open.delete(sub);
  // Exact: anything that reached a sub-workflow still open is on a cycle with it, so Infinity is right too.
  depths.set(sub, deepest + 1);
  return deepest + 1;
}

/** The node's error when its sub-workflow nests too deep, or undefined when it may run. */
export function nestingError(
  nodeId: string,
  sub: CompiledWorkflow,
  resolve: (node: Node) => CompiledWorkflow | undefined,
): ExecutionError | undefined {
  const depth = subWorkflowDepth(sub, resolve);
  if (depth <= MAX_SUB_WORKFLOW_DEPTH) return undefined;
  const name = sub.template?.id?.name ?? "";
  return create(ExecutionErrorSchema, {
    code: "MaxNestingDepthExceeded",
    message: Number.isFinite(depth)
      ? `sub-workflows under node [${nodeId}] nest ${depth} levels deep, more than the limit of ${MAX_SUB_WORKFLOW_DEPTH}`
      : `sub-workflow [${name}] of node [${nodeId}] contains itself, directly or through other sub-workflows, so it would nest without end`,
    kind: ExecutionError_ErrorKind.USER,
  });
}
