// The impure shell around planExecution: loads executions' state under their row locks, plans, and applies the
// actions (through the event batch) in one transaction for many executions.
import { create } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import type { CompiledWorkflowClosure } from "../../gen/flyteidl/core/compiler_pb.js";
import {
  NodeExecution_Phase as NodePhase,
  WorkflowExecution_Phase as WfPhase,
} from "../../gen/flyteidl/core/execution_pb.js";
import { type LiteralMap, LiteralMapSchema } from "../../gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import { idKey } from "../compiler/interfaces.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";
import { enqueueEvaluation } from "../repositories/work-repo.js";
import { decodeExecSpec, TERMINAL_WORKFLOW_PHASES, workflowPhase } from "../transformers/execution.js";
import { arraySubTask, stepArray } from "./arrays.js";
import { checkBranch } from "./branches.js";
import { checkLaunchPlanNode, wakeParent } from "./child-executions.js";
import { stepDynamic } from "./dynamic-nodes.js";
import type { EngineContext } from "./engine-context.js";
import { atNode, StalledEvaluationError } from "./evaluation-errors.js";
import { ExecutionView } from "./execution-view.js";
import { checkGate } from "./gates.js";
import {
  abortNode,
  arrayBudget,
  checkNodeTimeout,
  nodeState,
  type RunState,
  startNode,
} from "./node-actions.js";
import type { Action } from "./plan.js";
import { stepSubWorkflow } from "./sub-workflows.js";
import { resumeWaitingTask } from "./task-nodes.js";
import { PLAN_CHUNK } from "./workflow-plan.js";

/**
 * Evaluates executions this engine transaction has locked; each works for at most `sliceMs` before the rest is
 * queued as a new evaluation.
 */
export async function evaluateIn(
  ctx: EngineContext,
  trx: Knex,
  ids: readonly string[],
  sliceMs = SLICE_MS,
): Promise<void> {
  const batch = ctx.batch(trx);
  for (const id of ids) {
    await evaluateLocked(ctx, trx, id, sliceMs);
    batch.notifyWatchers(id);
  }
}

/** What one evaluation works with, loaded once. */
interface Evaluation {
  exec: ExecutionRow;
  readonly closure: CompiledWorkflowClosure;
  readonly taskTypes: Map<string, TaskTemplate>;
  readonly inputs: LiteralMap;
  readonly maxParallelism: number;
  readonly view: ExecutionView;
  /** The node being worked on (its unique id), which an error thrown now is about. */
  at?: string | undefined;
  /** Top-level nodes started by this evaluation: the plan never asks for one twice unless starting it did nothing. */
  readonly started: Set<string>;
}

/**
 * How long one evaluation may work before its transaction commits what it did and queues the rest as a new
 * evaluation (a big workflow moves in steps, each holding its execution's lock for at most this long).
 */
const SLICE_MS = 500;
/** Pending rows after which an evaluation writes what it has so far (inside its transaction). */
const FLUSH_AFTER_WRITES = 512;
/** Within a slice, the event loop gets a turn at least this often (rpcs and other work are not stalled). */
const YIELD_EVERY_MS = 10;

/** One evaluation's time: it makes progress at least once, then stops when the slice is spent. */
class Slice {
  private readonly until: number;
  private lastYield = performance.now();

  constructor(ms: number) {
    this.until = performance.now() + ms;
  }

  get spent(): boolean {
    return performance.now() >= this.until;
  }

  /** Lets the event loop run when this evaluation has kept it for YIELD_EVERY_MS. */
  async breathe(): Promise<void> {
    if (performance.now() - this.lastYield < YIELD_EVERY_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.lastYield = performance.now();
  }
}

async function evaluateLocked(ctx: EngineContext, trx: Knex, executionId: string, sliceMs: number) {
  const slice = new Slice(sliceMs);
  let exec = await ctx.lockExecution(trx, executionId);
  if (exec === undefined || TERMINAL_WORKFLOW_PHASES.has(workflowPhase(exec.phase))) return;
  if (exec.phase === "UNDEFINED")
    exec = await ctx.workflowEvents(trx, exec, [{ phase: WfPhase.QUEUED }, { phase: WfPhase.RUNNING }]);
  const closure = await ctx.compiledWorkflow(trx, exec.workflow_id);
  if (closure.primary === undefined) return;
  const taskTypes = new Map<string, TaskTemplate>();
  for (const task of closure.tasks)
    if (task.template?.id !== undefined) taskTypes.set(idKey(task.template.id), task.template);
  const inputs = await ctx.readLiteralMap(trx, exec.inputs_uri);
  const maxParallelism = decodeExecSpec(exec).maxParallelism;
  const view = await ExecutionView.load(ctx, trx, exec.id, closure, inputs, maxParallelism);
  const ev: Evaluation = { exec, closure, taskTypes, inputs, maxParallelism, view, started: new Set() };
  try {
    await evaluateSlices(ctx, trx, ev, slice);
  } catch (err) {
    throw atNode(ev.at, err);
  }
}

/** Evaluates until nothing moves or the slice is spent (then the rest is queued as a new evaluation). */
async function evaluateSlices(ctx: EngineContext, trx: Knex, ev: Evaluation, slice: Slice): Promise<void> {
  const view = ev.view;
  // Nodes that finish inside this transaction (sync plugins, recovered or failed-at-start nodes) let the plan
  // move on at once, so a chain of echo tasks completes without a queue round trip per node.
  for (;;) {
    ev.at = undefined;
    await view.refresh();
    // Gates and branches that finished since the last look move the plan forward first.
    const stepped = ev.exec.phase !== "ABORTING" && (await stepRunningNodes(ctx, trx, ev));
    if (!stepped && (await applyPlan(ctx, trx, ev, slice)) !== "progressed") return;
    if (slice.spent) break;
    // Big steps are written as they go: no single statement (built on the event loop) grows without bound.
    if (ctx.batch(trx).pendingWrites >= FLUSH_AFTER_WRITES) await ctx.batch(trx).flush();
    await slice.breathe();
  }
  await enqueueEvaluation(trx, ev.exec.id);
}

/** Checks every waiting or running node of a kind that moves on its own; true when any of them changed. */
async function stepRunningNodes(ctx: EngineContext, trx: Knex, ev: Evaluation): Promise<boolean> {
  const { exec, maxParallelism, view } = ev;
  let finished = false;
  for (const r of view.activeRows()) {
    ev.at = r.node_id;
    const spec = view.spec(r);
    // A node's tasks are those of the closure it sits in (the execution's, or a dynamic node's).
    const taskTypes = view.tasksOf(r);
    if (r.phase === "QUEUED" && spec?.target.case === "taskNode") {
      finished = (await resumeWaitingTask(ctx, trx, exec, spec, r, taskTypes)) || finished;
      continue;
    }
    const dynamic = r.phase === "DYNAMIC_RUNNING";
    if ((r.phase !== "RUNNING" && !dynamic) || spec === undefined) continue;
    // Gates time out by their own rule; any other node's timeout stops everything under it.
    if (spec.target.case !== "gateNode" && (await checkNodeTimeout(ctx, trx, exec, spec, r))) {
      finished = true;
      continue;
    }
    if (dynamic) {
      finished = (await stepDynamic(ctx, trx, exec, r, view)) || finished;
      continue;
    }
    if (spec.target.case === "gateNode") finished = (await checkGate(ctx, trx, exec, spec, r)) || finished;
    if (spec.target.case === "branchNode")
      finished = (await checkBranch(ctx, trx, exec, r, view.children(r))) || finished;
    if (spec.target.case === "arrayNode") {
      const run: RunState = { tasks: taskTypes, states: new Map(), inputs: create(LiteralMapSchema) };
      // One at a time: the reads share the transaction's connection (pg queues parallel queries, deprecated).
      const states = async (rows: readonly NodeExecutionRow[]) => {
        const out = new Map<string, Awaited<ReturnType<typeof nodeState>>>();
        for (const c of rows) out.set(c.node_id, await nodeState(ctx, trx, c));
        return out;
      };
      finished =
        (await stepArray(ctx, trx, exec, r, spec, view.children(r), {
          states,
          start: (node, elementInputs, placement) =>
            startNode(ctx, trx, exec, node, elementInputs, run, placement),
          budget: arrayBudget(ctx, spec, taskTypes, view.runningNested, maxParallelism),
          subTask: arraySubTask(spec, taskTypes),
        })) || finished;
    }
    if (view.subWorkflow(spec, r) !== undefined) {
      finished = (await stepSubWorkflow(ctx, trx, exec, r, spec, view)) || finished;
    } else if (spec.target.case === "workflowNode")
      finished = (await checkLaunchPlanNode(ctx, trx, exec, r)) || finished;
  }
  return finished;
}

/** Plans the top-level nodes and applies the actions: "done" once the execution finished or nothing moved. */
async function applyPlan(
  ctx: EngineContext,
  trx: Knex,
  ev: Evaluation,
  slice: Slice,
): Promise<"progressed" | "done"> {
  const plan = ev.view.top;
  if (plan === undefined) return "done";
  const aborting = ev.exec.phase === "ABORTING";
  await ev.view.loadWanted(plan, aborting, PLAN_CHUNK);
  const run: RunState = { tasks: ev.taskTypes, states: plan.nodeStates, inputs: ev.inputs };
  let progressed = false;
  for (const a of plan.next(aborting, PLAN_CHUNK)) {
    const exec = ev.exec;
    ev.at = a.kind === "start-node" ? a.node.id : "nodeId" in a ? a.nodeId : undefined;
    switch (a.kind) {
      case "start-node":
        if (ev.started.has(a.node.id)) throw stalled(a.node.id);
        ev.started.add(a.node.id);
        progressed = (await startNode(ctx, trx, exec, a.node, a.inputs, run)) || progressed;
        // The rest is planned again next round (or by the evaluation queued when the slice is spent).
        if (slice.spent) return "progressed";
        await slice.breathe();
        break;
      case "abort-node":
        await abortNode(ctx, trx, exec, a.nodeId);
        progressed = true;
        break;
      case "skip-node":
        await ctx.nodeEvent(trx, exec, a.nodeId, NodePhase.SKIPPED);
        progressed = true;
        break;
      case "failing":
        ev.exec = await ctx.workflowEvents(trx, exec, [{ phase: WfPhase.FAILING }]);
        break;
      case "succeed":
      case "fail":
      case "aborted":
        await ctx.workflowEvents(trx, exec, [finalOutcome(a)]);
        await wakeParent(trx, exec);
        return "done";
    }
  }
  return progressed ? "progressed" : "done";
}

/** The plan asks again for a node it was given: starting it left nothing the plan sees, and would again and again. */
const stalled = (nodeId: string) =>
  new StalledEvaluationError(
    `starting node [${nodeId}] recorded no node execution of its own (is its id another node execution's?)`,
  );

function finalOutcome(a: Extract<Action, { kind: "succeed" | "fail" | "aborted" }>) {
  if (a.kind === "succeed") return { phase: WfPhase.SUCCEEDED, outputs: a.outputs };
  if (a.kind === "fail") return { phase: WfPhase.FAILED, error: a.error };
  return { phase: WfPhase.ABORTED };
}
