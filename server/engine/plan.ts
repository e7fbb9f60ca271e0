// The engine's pure core: from a compiled workflow and the state of its nodes, decide what happens next.
// No I/O here; the shell (evaluator.ts) loads state, calls planExecution, and applies the actions.
import { create } from "@bufbuild/protobuf";
import type { CompiledWorkflow } from "../../gen/flyteidl/core/compiler_pb.js";
import {
  type ExecutionError,
  ExecutionError_ErrorKind,
  ExecutionErrorSchema,
} from "../../gen/flyteidl/core/execution_pb.js";
import {
  type Binding,
  type BindingData,
  type Literal,
  type LiteralMap,
  LiteralMapSchema,
  LiteralSchema,
} from "../../gen/flyteidl/core/literals_pb.js";
import { type Node, WorkflowMetadata_OnFailurePolicy } from "../../gen/flyteidl/core/workflow_pb.js";
import { walkNodes } from "../compiler/requirements.js";

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

const DONE: ReadonlySet<NodeStatus> = new Set(["succeeded", "skipped"]);

function failureError(p: PlanInput, failed: Node): ExecutionError {
  const cause = p.nodes.get(failed.id)?.error;
  return create(ExecutionErrorSchema, {
    code: cause?.code ?? "NodeFailed",
    message: `failed at Node[${failed.id}]. ${cause?.message ?? ""}`.trim(),
    kind: cause?.kind ?? ExecutionError_ErrorKind.USER,
  });
}

/**
 * A node failed. FAIL_IMMEDIATELY aborts what runs; FAIL_AFTER_EXECUTABLE_NODES_COMPLETE first lets every node
 * that can still run (its upstream nodes all succeeded) finish. Then the failure node runs, if there is one.
 */
function planFailure(
  p: PlanInput,
  failed: Node,
  userNodes: readonly Node[],
  running: readonly Node[],
  ready: (id: string) => boolean,
): Action[] {
  const policy =
    p.workflow.template?.metadata?.onFailure ?? WorkflowMetadata_OnFailurePolicy.FAIL_IMMEDIATELY;
  if (policy === WorkflowMetadata_OnFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE) {
    const startable = userNodes.filter((n) => !p.nodes.has(n.id) && ready(n.id));
    if (running.length > 0 || startable.length > 0) {
      const actions: Action[] = [];
      for (const node of startable) {
        try {
          actions.push({ kind: "start-node", node, inputs: resolveBindings(node.inputs, p.nodes, p.inputs) });
        } catch (err) {
          if (!(err instanceof BindingError)) throw err;
        }
      }
      return actions;
    }
  }
  const aborts: Action[] = running.map((n) => ({ kind: "abort-node", nodeId: n.id }));
  const handler = p.workflow.template?.failureNode;
  if (handler !== undefined) {
    const state = p.nodes.get(handler.id);
    if (state === undefined) {
      try {
        const inputs = resolveBindings(handler.inputs, p.nodes, p.inputs);
        return [...aborts, { kind: "failing" }, { kind: "start-node", node: handler, inputs }];
      } catch (err) {
        if (!(err instanceof BindingError)) throw err;
      }
    }
    if (state?.status === "running") return aborts;
  }
  return [...aborts, { kind: "fail", error: failureError(p, failed) }];
}

export function planExecution(p: PlanInput): Action[] {
  const up = p.workflow.connections?.upstream ?? {};
  const userNodes = (p.workflow.template?.nodes ?? []).filter(
    (n) => n.id !== "start-node" && n.id !== "end-node",
  );
  const running = userNodes.filter((n) => p.nodes.get(n.id)?.status === "running");
  if (p.aborting) {
    return running.length > 0
      ? running.map((n) => ({ kind: "abort-node", nodeId: n.id }))
      : [{ kind: "aborted" }];
  }
  const failed = userNodes.find((n) => p.nodes.get(n.id)?.status === "failed");
  const ready = (id: string) =>
    (up[id]?.ids ?? []).every((u) => u === "start-node" || DONE.has(p.nodes.get(u)?.status ?? "running"));
  if (failed !== undefined) return planFailure(p, failed, userNodes, running, ready);
  const actions: Action[] = [];
  let slots = p.maxParallelism > 0 ? p.maxParallelism - running.length : Number.POSITIVE_INFINITY;
  for (const node of userNodes) {
    if (p.nodes.has(node.id) || !ready(node.id) || slots <= 0) continue;
    try {
      actions.push({ kind: "start-node", node, inputs: resolveBindings(node.inputs, p.nodes, p.inputs) });
      slots--;
    } catch (err) {
      if (!(err instanceof BindingError)) throw err;
      const error = create(ExecutionErrorSchema, {
        code: "BindingResolutionFailed",
        message: err.message,
        kind: ExecutionError_ErrorKind.USER,
      });
      return [{ kind: "fail", error }];
    }
  }
  const allDone = userNodes.every((n) => DONE.has(p.nodes.get(n.id)?.status ?? "running"));
  if (allDone && actions.length === 0) {
    const end = p.workflow.template?.nodes.find((n) => n.id === "end-node");
    return [
      {
        kind: "succeed",
        outputs: resolveBindings(end?.inputs ?? p.workflow.template?.outputs ?? [], p.nodes, p.inputs),
      },
    ];
  }
  return actions;
}

function promisedNodes(d: BindingData | undefined, into: Set<string>): void {
  const v = d?.value;
  if (v?.case === "promise") into.add(v.value.nodeId);
  if (v?.case === "collection") for (const b of v.value.bindings) promisedNodes(b, into);
  if (v?.case === "map") for (const b of Object.values(v.value.bindings)) promisedNodes(b, into);
}

/**
 * The nodes whose outputs planExecution can read given these statuses: upstream of nodes not started yet (nested
 * branch and array nodes included), of the failure node once a node failed, and of the end-node once all are done.
 * Loading only these keeps a round's cost independent of how many nodes already finished.
 */
export function outputsNeeded(
  workflow: CompiledWorkflow,
  status: ReadonlyMap<string, NodeStatus>,
): Set<string> {
  const userNodes = (workflow.template?.nodes ?? []).filter(
    (n) => n.id !== "start-node" && n.id !== "end-node",
  );
  const consumers = userNodes.filter((n) => !status.has(n.id));
  const failureNode = workflow.template?.failureNode;
  if (failureNode !== undefined && userNodes.some((n) => status.get(n.id) === "failed"))
    consumers.push(failureNode);
  const needed = new Set<string>();
  if (userNodes.every((n) => DONE.has(status.get(n.id) ?? "running"))) {
    const end = workflow.template?.nodes.find((n) => n.id === "end-node");
    for (const b of end?.inputs ?? workflow.template?.outputs ?? []) promisedNodes(b.binding, needed);
  }
  for (const n of consumers)
    for (const inner of walkNodes(n)) for (const b of inner.inputs) promisedNodes(b.binding, needed);
  return needed;
}
