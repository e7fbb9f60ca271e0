// The engine's pure, incremental planner: one WorkflowPlan per workflow level (the primary workflow, or an inline
// sub-workflow under its node) holds the state of that level's nodes and answers "what happens next" at a cost
// that grows with what changed since the last question — not with the size of the workflow. Readiness is kept as a
// count of unfinished upstream nodes per node; a node that finishes makes only its downstream nodes ready.
// The level's static graph (nodes, edges, promised outputs) is built once by workflow-graph.ts.
import { create } from "@bufbuild/protobuf";
import type { CompiledWorkflow } from "../../gen/flyteidl/core/compiler_pb.js";
import {
  type ExecutionError,
  ExecutionError_ErrorKind,
  ExecutionErrorSchema,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { Binding, LiteralMap } from "../../gen/flyteidl/core/literals_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import { walkNodes } from "../compiler/requirements.js";
import {
  type Action,
  BindingError,
  type NodeState,
  type NodeStatus,
  type PlanInput,
  resolveBindings,
} from "./plan.js";
import { promisedBy, type WorkflowGraph, workflowGraph } from "./workflow-graph.js";

/**
 * Nodes the engine starts per planning step: a wide level of a workflow starts in steps (each then recorded before
 * the next is planned), so no step resolves thousands of bindings at once.
 */
export const PLAN_CHUNK = 128;

const isDone = (s: NodeStatus | undefined) => s === "succeeded" || s === "skipped";

/** Node indices in ascending order (template order), with binary-search insert and delete. */
class SortedIndices {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  private find(i: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.items[mid] ?? 0) < i) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(i: number): void {
    const at = this.find(i);
    if (this.items[at] !== i) this.items.splice(at, 0, i);
  }

  delete(i: number): void {
    const at = this.find(i);
    if (this.items[at] === i) this.items.splice(at, 1);
  }

  [Symbol.iterator](): Iterator<number> {
    return this.items[Symbol.iterator]();
  }
}

export class WorkflowPlan {
  private readonly graph: WorkflowGraph;
  private readonly states = new Map<string, NodeState>();
  private readonly status: (NodeStatus | undefined)[];
  private readonly waiting: number[];
  /** Nodes not started whose upstream nodes all finished. */
  private readonly ready = new SortedIndices();
  private readonly running = new Set<number>();
  private readonly failed = new Set<number>();
  private done = 0;

  constructor(
    workflow: CompiledWorkflow,
    private readonly inputs: LiteralMap,
    private readonly maxParallelism: number,
  ) {
    this.graph = workflowGraph(workflow);
    this.status = this.graph.nodes.map(() => undefined);
    this.waiting = [...this.graph.upstreamCount];
    this.waiting.forEach((w, i) => {
      if (w === 0) this.ready.add(i);
    });
  }

  /** Node states by node id (the failure node's included), as resolveBindings reads them. */
  get nodeStates(): ReadonlyMap<string, NodeState> {
    return this.states;
  }

  /** Records a node's state (a node seen for the first time, or a change). */
  update(nodeId: string, state: NodeState): void {
    this.states.set(nodeId, state);
    const i = this.graph.index.get(nodeId);
    if (i === undefined) return;
    const before = this.status[i];
    const after = state.status;
    if (before === after) return;
    this.status[i] = after;
    if (before === undefined) this.ready.delete(i);
    this.track(i, before, -1);
    this.track(i, after, 1);
  }

  private track(i: number, s: NodeStatus | undefined, delta: 1 | -1): void {
    if (s === "running") delta > 0 ? this.running.add(i) : this.running.delete(i);
    if (s === "failed") delta > 0 ? this.failed.add(i) : this.failed.delete(i);
    if (!isDone(s)) return;
    this.done += delta;
    for (const d of this.graph.downstream[i] ?? []) {
      const w = (this.waiting[d] ?? 0) - delta;
      this.waiting[d] = w;
      if (w === 0 && this.status[d] === undefined) this.ready.add(d);
      else this.ready.delete(d);
    }
  }

  /**
   * Succeeded nodes whose outputs the next call to next() reads but that were recorded without them: the caller
   * loads and records them first.
   */
  outputsWanted(aborting: boolean, limit = Number.POSITIVE_INFINITY): string[] {
    if (aborting) return [];
    const ids = new Set<string>();
    const count = this.failed.size > 0 ? limit : Math.min(this.slots(), limit);
    for (const node of this.readyNodes(count))
      for (const id of this.graph.promised[this.graph.index.get(node.id) ?? -1] ?? []) ids.add(id);
    if (this.failed.size > 0 && this.graph.failureNode !== undefined)
      for (const id of promisedBy([...walkNodes(this.graph.failureNode)].flatMap((n) => n.inputs)))
        ids.add(id);
    if (this.done === this.graph.nodes.length)
      for (const id of promisedBy(this.graph.endBindings)) ids.add(id);
    return [...ids].filter((id) => {
      const s = this.states.get(id);
      return s?.status === "succeeded" && s.outputs === undefined;
    });
  }

  /**
   * What to do next, given every state recorded so far: at most `limit` nodes to start (the rest come with later
   * calls, once the caller recorded what these did), or the workflow's end.
   */
  next(aborting: boolean, limit = Number.POSITIVE_INFINITY): Action[] {
    const aborts = (): Action[] =>
      [...this.running]
        .sort((a, b) => a - b)
        .map((i) => ({ kind: "abort-node", nodeId: this.graph.nodes[i]?.id ?? "" }));
    if (aborting) return this.running.size > 0 ? aborts() : [{ kind: "aborted" }];
    if (this.failed.size > 0) return this.planFailure(aborts, limit);
    const actions: Action[] = [];
    for (const node of this.readyNodes(Math.min(this.slots(), limit))) {
      try {
        actions.push({ kind: "start-node", node, inputs: this.resolve(node.inputs) });
      } catch (err) {
        if (!(err instanceof BindingError)) throw err;
        const error = create(ExecutionErrorSchema, {
          code: "BindingResolutionFailed",
          message: err.message,
          kind: ExecutionError_ErrorKind.USER,
        });
        return [...aborts(), { kind: "fail", error }];
      }
    }
    if (actions.length === 0 && this.done === this.graph.nodes.length)
      return [{ kind: "succeed", outputs: this.resolve(this.graph.endBindings) }];
    return actions;
  }

  /** How many more nodes may run at once under max_parallelism. */
  private slots(): number {
    return this.maxParallelism > 0 ? this.maxParallelism - this.running.size : Number.POSITIVE_INFINITY;
  }

  /** The first `count` ready nodes in template order. */
  private readyNodes(count: number): Node[] {
    const nodes: Node[] = [];
    for (const i of this.ready) {
      if (nodes.length >= count) break;
      const node = this.graph.nodes[i];
      if (node !== undefined) nodes.push(node);
    }
    return nodes;
  }

  private resolve(bindings: readonly Binding[]): LiteralMap {
    return resolveBindings(bindings, this.states, this.inputs);
  }

  /**
   * A node failed. FAIL_IMMEDIATELY aborts what runs; FAIL_AFTER_EXECUTABLE_NODES_COMPLETE first lets every node
   * that can still run (its upstream nodes all succeeded) finish. Then the failure node runs, if there is one.
   */
  private planFailure(aborts: () => Action[], limit: number): Action[] {
    if (this.graph.failAfterExecutable && (this.running.size > 0 || this.ready.size > 0)) {
      const actions: Action[] = [];
      for (const node of this.readyNodes(limit)) {
        try {
          actions.push({ kind: "start-node", node, inputs: this.resolve(node.inputs) });
        } catch (err) {
          if (!(err instanceof BindingError)) throw err;
        }
      }
      return actions;
    }
    const handler = this.graph.failureNode;
    if (handler !== undefined) {
      const state = this.states.get(handler.id);
      if (state === undefined) {
        try {
          const inputs = this.resolve(handler.inputs);
          return [...aborts(), { kind: "failing" }, { kind: "start-node", node: handler, inputs }];
        } catch (err) {
          if (!(err instanceof BindingError)) throw err;
        }
      }
      if (state?.status === "running") return aborts();
    }
    return [...aborts(), { kind: "fail", error: this.failureError() }];
  }

  private failureError(): ExecutionError {
    const first = Math.min(...this.failed);
    const failed = this.graph.nodes[first];
    const cause = failed === undefined ? undefined : this.states.get(failed.id)?.error;
    return create(ExecutionErrorSchema, {
      code: cause?.code ?? "NodeFailed",
      message: `failed at Node[${failed?.id ?? ""}]. ${cause?.message ?? ""}`.trim(),
      kind: cause?.kind ?? ExecutionError_ErrorKind.USER,
    });
  }
}

/** One plan from scratch (a WorkflowPlan fed every state at once): what happens next. */
export function planExecution(p: PlanInput): Action[] {
  const plan = new WorkflowPlan(p.workflow, p.inputs, p.maxParallelism);
  for (const [id, state] of p.nodes) plan.update(id, state);
  return plan.next(p.aborting);
}
