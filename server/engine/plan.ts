// The engine's pure core, part one: node states, the actions a plan yields, and binding resolution (a node's inputs
// from upstream outputs). The planner itself is WorkflowPlan (workflow-plan.ts). No I/O here.
import { create } from "@bufbuild/protobuf";
import type { CompiledWorkflow } from "../../gen/flyteidl/core/compiler_pb.js";
import type { ExecutionError } from "../../gen/flyteidl/core/execution_pb.js";
import {
  type Binding,
  type BindingData,
  type Literal,
  type LiteralMap,
  LiteralMapSchema,
  LiteralSchema,
} from "../../gen/flyteidl/core/literals_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";

export type NodeStatus = "running" | "succeeded" | "failed" | "aborted" | "skipped";

export interface NodeState {
  readonly status: NodeStatus;
  readonly outputs?: LiteralMap;
  readonly error?: ExecutionError;
}

export interface PlanInput {
  readonly workflow: CompiledWorkflow;
  readonly inputs: LiteralMap;
  readonly nodes: ReadonlyMap<string, NodeState>;
  readonly aborting: boolean;
  /** Running task nodes allowed at once (max_parallelism); 0 = unlimited. */
  readonly maxParallelism: number;
}

export type Action =
  | { readonly kind: "start-node"; readonly node: Node; readonly inputs: LiteralMap }
  | { readonly kind: "skip-node"; readonly nodeId: string }
  | { readonly kind: "abort-node"; readonly nodeId: string }
  | { readonly kind: "succeed"; readonly outputs: LiteralMap }
  | { readonly kind: "fail"; readonly error: ExecutionError }
  | { readonly kind: "aborted" }
  | { readonly kind: "failing" };

export class BindingError extends Error {}

function resolveData(
  d: BindingData | undefined,
  nodes: ReadonlyMap<string, NodeState>,
  inputs: LiteralMap,
): Literal {
  const v = d?.value;
  switch (v?.case) {
    case "scalar":
      return create(LiteralSchema, { value: { case: "scalar", value: v.value } });
    case "promise": {
      const src =
        v.value.nodeId === "" || v.value.nodeId === "start-node"
          ? inputs
          : nodes.get(v.value.nodeId)?.outputs;
      const lit = src?.literals[v.value.var];
      if (lit === undefined)
        throw new BindingError(`output [${v.value.var}] of node [${v.value.nodeId}] is not available`);
      return lit;
    }
    case "collection":
      return create(LiteralSchema, {
        value: {
          case: "collection",
          value: { literals: v.value.bindings.map((b) => resolveData(b, nodes, inputs)) },
        },
      });
    case "map": {
      const literals = Object.fromEntries(
        Object.entries(v.value.bindings).map(([k, b]) => [k, resolveData(b, nodes, inputs)]),
      );
      return create(LiteralSchema, { value: { case: "map", value: { literals } } });
    }
    default:
      throw new BindingError("unsupported binding");
  }
}

/** The literal map a node (or the end-node) receives through its bindings. */
export function resolveBindings(
  bindings: readonly Binding[],
  nodes: ReadonlyMap<string, NodeState>,
  inputs: LiteralMap,
): LiteralMap {
  const literals: Record<string, Literal> = {};
  for (const b of bindings) literals[b.var] = resolveData(b.binding, nodes, inputs);
  return create(LiteralMapSchema, { literals });
}
