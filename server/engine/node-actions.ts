// Starting, stopping and stepping nodes: the actions the evaluator applies, per node kind.
import { create, fromBinary } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import { ExecutionMetadata_ExecutionMode } from "../../gen/flyteidl/admin/execution_pb.js";
import { NodeExecutionClosureSchema } from "../../gen/flyteidl/admin/node_execution_pb.js";
import {
  type ExecutionError,
  ExecutionError_ErrorKind,
  ExecutionErrorSchema,
  NodeExecution_Phase as NodePhase,
  TaskExecution_Phase as TaskPhase,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { LiteralMap } from "../../gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import { idKey } from "../compiler/interfaces.js";
import { type ExecutionRow, getExecution } from "../repositories/execution-repo.js";
import { getNodeExecution, type NodeExecutionRow } from "../repositories/node-execution-repo.js";
import { enqueueEvaluation } from "../repositories/work-repo.js";
import { decodeExecSpec } from "../transformers/execution.js";
import { decodeLiteralMap } from "../transformers/literals.js";
import { startBranch } from "./branches.js";
import { abortChild, startLaunchPlanNode } from "./child-executions.js";
import type { EngineContext, Placement } from "./engine-context.js";
import { durationMs, startGate } from "./gates.js";
import { type NodeState, type NodeStatus, resolveBindings } from "./plan.js";
import { echoPlugin } from "./plugins/echo-plugin.js";
import { startTaskNode } from "./task-nodes.js";

/** What starting a node needs beyond the node: task templates, the top-level node states and workflow inputs. */
export interface RunState {
  readonly tasks: Map<string, TaskTemplate>;
  readonly states: ReadonlyMap<string, NodeState>;
  readonly inputs: LiteralMap;
}

const STATUS: Readonly<Record<string, NodeStatus>> = {
  SUCCEEDED: "succeeded",
  RECOVERED: "succeeded",
  FAILED: "failed",
  TIMED_OUT: "failed",
  ABORTED: "aborted",
  SKIPPED: "skipped",
};

export const nodeStatus = (row: NodeExecutionRow): NodeStatus => STATUS[row.phase] ?? "running";

/** A node's state for the planner; its outputs are read only when `withOutputs` (see outputsNeeded). */
export async function nodeState(
  ctx: EngineContext,
  trx: Knex,
  row: NodeExecutionRow,
  withOutputs = true,
): Promise<NodeState> {
  const status = nodeStatus(row);
  const closure = fromBinary(NodeExecutionClosureSchema, row.closure);
  if (status === "succeeded" && closure.outputResult.case === "outputUri") {
    if (!withOutputs) return { status };
    return { status, outputs: decodeLiteralMap(await ctx.readData(trx, closure.outputResult.value)) };
  }
  if (closure.outputResult.case === "error") return { status, error: closure.outputResult.value };
  return { status };
}

/** Outputs of the same node in the execution being recovered, when it succeeded there. */
export async function recoveredOutputs(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  nodeId: string,
): Promise<LiteralMap | undefined> {
  const spec = decodeExecSpec(exec);
  const ref = spec.metadata?.referenceExecution;
  if (spec.metadata?.mode !== ExecutionMetadata_ExecutionMode.RECOVERED || ref === undefined)
    return undefined;
  const original = await getExecution(trx, ref);
  const node = original === undefined ? undefined : await getNodeExecution(trx, original.id, nodeId);
  if (node === undefined || (node.phase !== "SUCCEEDED" && node.phase !== "RECOVERED")) return undefined;
  const state = await nodeState(ctx, trx, node);
  return state.outputs;
}

export async function startNode(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  node: Node,
  inputs: LiteralMap,
  run: RunState,
  placement: Placement = {},
): Promise<boolean> {
  const under: Placement = { specNodeId: node.id, ...placement };
  const tasks = run.tasks;
  const recovered = await recoveredOutputs(ctx, trx, exec, node.id);
  if (recovered !== undefined) {
    await ctx.nodeEvent(trx, exec, node.id, NodePhase.RECOVERED, { inputs, outputs: recovered, ...under });
    return true;
  }
  const t = node.target;
  if (t.case === "gateNode") {
    await startGate(ctx, trx, exec, node, inputs, under);
    return false;
  }
  // Gates and task attempts schedule their own timeout checks; other kinds are checked when this one fires.
  const timeout = durationMs(node.metadata?.timeout);
  if (timeout > 0 && t.case !== "taskNode") await enqueueEvaluation(trx, exec.id, timeout);
  if (t.case === "arrayNode") {
    // An array node, not a parent one (FlyteRemote.wait cannot place a parent node without a sub-workflow).
    await ctx.nodeEvent(trx, exec, node.id, NodePhase.QUEUED, { inputs, isArray: true, ...under });
    await ctx.nodeEvent(trx, exec, node.id, NodePhase.RUNNING);
    return true;
  }
  if (t.case === "workflowNode" && t.value.reference.case === "subWorkflowRef") {
    await ctx.nodeEvent(trx, exec, node.id, NodePhase.QUEUED, { inputs, isParent: true, ...under });
    await ctx.nodeEvent(trx, exec, node.id, NodePhase.RUNNING);
    return true;
  }
  if (t.case === "workflowNode" && t.value.reference.case === "launchplanRef") {
    return startLaunchPlanNode(ctx, trx, exec, node, inputs, under);
  }
  if (t.case === "branchNode") {
    return startBranch(
      ctx,
      trx,
      exec,
      node,
      inputs,
      under,
      (child, childInputs, childPlacement) =>
        startNode(ctx, trx, exec, child, childInputs, run, childPlacement),
      (bindings) => resolveBindings(bindings, run.states, run.inputs),
    );
  }
  if (t.case !== "taskNode" || t.value.reference.case !== "referenceId") {
    const error = create(ExecutionErrorSchema, {
      code: "UnsupportedNode",
      message: `node kind [${t.case}] is not supported by this engine yet`,
      kind: ExecutionError_ErrorKind.SYSTEM,
    });
    await ctx.nodeEvent(trx, exec, node.id, NodePhase.FAILED, { inputs, error, ...under });
    return true;
  }
  return startTaskNode(ctx, trx, exec, node, t.value.reference.value, inputs, tasks, under);
}

/**
 * A node's own timeout (node metadata) covers all its work — task attempts, children, child executions, array
 * elements: past it the node is TIMED_OUT and everything under it is aborted.
 */
export async function checkNodeTimeout(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  spec: Node,
  row: NodeExecutionRow,
): Promise<boolean> {
  const timeout = durationMs(spec.metadata?.timeout);
  if (timeout <= 0) return false;
  const left = (row.started_at ?? row.node_execution_created_at).getTime() + timeout - Date.now();
  if (left > 0) {
    await enqueueEvaluation(trx, exec.id, left);
    return false;
  }
  const error = create(ExecutionErrorSchema, {
    code: "Timeout",
    message: `node [${row.node_id}] timed out after ${timeout} ms`,
    kind: ExecutionError_ErrorKind.USER,
  });
  await stopNodeWork(ctx, trx, exec, row.node_id, NodePhase.TIMED_OUT, error);
  return true;
}

export async function abortNode(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  nodeId: string,
): Promise<void> {
  await stopNodeWork(ctx, trx, exec, nodeId, NodePhase.ABORTED);
}

/** Stops everything a node runs (children, child executions, processes, open attempts), then records `phase`. */
export async function stopNodeWork(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  nodeId: string,
  phase: NodePhase,
  error?: ExecutionError,
): Promise<void> {
  // The queries below read node and attempt rows directly: write what the batch holds first.
  await ctx.batch(trx).flush();
  const row = await getNodeExecution(trx, exec.id, nodeId);
  if (row !== undefined) {
    const children = (await trx("node_executions")
      .where({ parent_id: row.id })
      .whereIn("phase", ["QUEUED", "RUNNING"])) as NodeExecutionRow[];
    for (const child of children) await abortNode(ctx, trx, exec, child.node_id);
  }
  if (row !== undefined) await abortChild(trx, row, exec.abort_cause || "parent execution stopped");
  ctx.running.get(`${exec.id}/${nodeId}`)?.abort();
  await ctx.nodeEvent(trx, exec, nodeId, phase, error === undefined ? {} : { error });
  const attempts = (await trx("task_executions as te")
    .join("node_executions as ne", "ne.id", "te.node_execution_id")
    .where({ "ne.execution_id": exec.id, "ne.node_id": nodeId })
    .whereNotIn("te.phase", ["SUCCEEDED", "FAILED", "ABORTED"])
    .select("te.project", "te.domain", "te.name", "te.version", "te.retry_attempt")) as {
    project: string;
    domain: string;
    name: string;
    version: string;
    retry_attempt: number;
  }[];
  for (const a of attempts) {
    const taskId = {
      $typeName: "flyteidl.core.Identifier" as const,
      resourceType: 1,
      project: a.project,
      domain: a.domain,
      name: a.name,
      version: a.version,
      org: "",
    };
    await ctx.taskEvent(trx, exec, nodeId, taskId, a.retry_attempt, TaskPhase.ABORTED);
  }
}

/**
 * How many more array elements may start under max_parallelism (`runningNested`: running nodes under a parent);
 * synchronous elements never hold a slot.
 */
export function arrayBudget(
  ctx: EngineContext,
  spec: Node,
  tasks: Map<string, TaskTemplate>,
  runningNested: number,
  maxParallelism: number,
): number {
  const sub = spec.target.case === "arrayNode" ? spec.target.value.node : undefined;
  const ref =
    sub?.target.case === "taskNode" && sub.target.value.reference.case === "referenceId"
      ? sub.target.value.reference.value
      : undefined;
  const template = ref === undefined ? undefined : tasks.get(idKey(ref));
  if (maxParallelism <= 0 || (template !== undefined && ctx.plugins(template) === echoPlugin)) {
    return Number.POSITIVE_INFINITY;
  }
  return maxParallelism - runningNested;
}
