// The impure shell around planExecution: loads an execution's state under a row lock, plans, and applies the
// actions (through the event recorders) in one transaction.
import { create } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import {
  NodeExecution_Phase as NodePhase,
  WorkflowExecution_Phase as WfPhase,
} from "../../gen/flyteidl/core/execution_pb.js";
import { LiteralMapSchema } from "../../gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import { idKey } from "../compiler/interfaces.js";
import { notifyWatchers } from "../managers/workflow-event-recorder.js";
import { type NodeExecutionRow, nodeExecutionsOf } from "../repositories/node-execution-repo.js";
import { enqueueEvaluation } from "../repositories/work-repo.js";
import { decodeExecSpec, TERMINAL_WORKFLOW_PHASES, workflowPhase } from "../transformers/execution.js";
import { decodeLiteralMap } from "../transformers/literals.js";
import { stepArray } from "./arrays.js";
import { checkBranch } from "./branches.js";
import { checkLaunchPlanNode, wakeParent } from "./child-executions.js";
import type { EngineContext } from "./engine-context.js";
import { checkGate } from "./gates.js";
import {
  abortNode,
  arrayBudget,
  checkNodeTimeout,
  nodeState,
  type RunState,
  resumeWaitingTask,
  startNode,
  stepSubWorkflow,
} from "./node-actions.js";
import { type NodeState, planExecution } from "./plan.js";
import { findSpec, subWorkflowOf } from "./specs.js";

const MAX_ROUNDS = 100;

export async function evaluateExecution(ctx: EngineContext, executionId: string): Promise<void> {
  await ctx.db.transaction(async (trx) => {
    await evaluateLocked(ctx, trx, executionId);
    await notifyWatchers(trx, executionId);
  });
}

async function evaluateLocked(ctx: EngineContext, trx: Knex, executionId: string): Promise<void> {
  {
    let exec = await ctx.lockExecution(trx, executionId);
    if (exec === undefined || TERMINAL_WORKFLOW_PHASES.has(workflowPhase(exec.phase))) return;
    if (exec.phase === "UNDEFINED") {
      await ctx.workflowEvent(trx, exec, WfPhase.QUEUED);
      exec = { ...exec, phase: "QUEUED" };
      await ctx.workflowEvent(trx, exec, WfPhase.RUNNING);
      exec = (await ctx.lockExecution(trx, executionId)) ?? exec;
    }
    const closure = await ctx.compiledWorkflow(trx, exec.workflow_id);
    const workflow = closure.primary;
    if (workflow === undefined) return;
    const taskTypes = new Map<string, TaskTemplate>();
    for (const task of closure.tasks)
      if (task.template?.id !== undefined) taskTypes.set(idKey(task.template.id), task.template);
    const inputs = decodeLiteralMap(
      exec.inputs_uri === "" ? undefined : await ctx.data.get(trx, exec.inputs_uri),
    );
    const maxParallelism = decodeExecSpec(exec).maxParallelism;
    // Nodes that finish inside this transaction (sync plugins, recovered or failed-at-start nodes) let the plan
    // move on at once, so a chain of echo tasks completes in one evaluation.
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const all = (await nodeExecutionsOf(trx, exec.id)).filter(
        (r) => r.node_id !== "start-node" && r.node_id !== "end-node",
      );
      // Gates and branches that finished since the last look move the plan forward first.
      let finished = false;
      if (exec.phase !== "ABORTING") {
        for (const r of all) {
          const spec = findSpec(closure, all, r);
          if (r.phase === "QUEUED" && spec?.target.case === "taskNode") {
            finished = (await resumeWaitingTask(ctx, trx, exec, spec, r, taskTypes)) || finished;
            continue;
          }
          if (r.phase !== "RUNNING" || spec === undefined) continue;
          if (spec.target.case === "taskNode")
            finished = (await checkNodeTimeout(ctx, trx, exec, spec, r)) || finished;
          if (spec.target.case === "gateNode")
            finished = (await checkGate(ctx, trx, exec, spec, r)) || finished;
          if (spec.target.case === "branchNode")
            finished = (await checkBranch(ctx, trx, exec, r, all)) || finished;
          if (spec.target.case === "arrayNode") {
            const run: RunState = { tasks: taskTypes, states: new Map(), inputs: create(LiteralMapSchema) };
            const states = async (rows: NodeExecutionRow[]) =>
              new Map(
                await Promise.all(rows.map(async (c) => [c.node_id, await nodeState(ctx, trx, c)] as const)),
              );
            finished =
              (await stepArray(
                ctx,
                trx,
                exec,
                r,
                spec,
                all,
                states,
                (node, elementInputs, placement) =>
                  startNode(ctx, trx, exec, node, elementInputs, run, placement),
                arrayBudget(ctx, spec, taskTypes, all, maxParallelism),
              )) || finished;
          }
          if (subWorkflowOf(closure, spec) !== undefined) {
            finished =
              (await stepSubWorkflow(ctx, trx, exec, r, all, spec, closure, taskTypes, maxParallelism)) ||
              finished;
          } else if (spec.target.case === "workflowNode")
            finished = (await checkLaunchPlanNode(ctx, trx, exec, r)) || finished;
        }
      }
      if (finished) continue;
      const rows = all.filter((r) => r.parent_id === null);
      const nodes = new Map<string, NodeState>();
      for (const r of rows) nodes.set(r.node_id, await nodeState(ctx, trx, r));
      const run: RunState = { tasks: taskTypes, states: nodes, inputs };
      const actions = planExecution({
        workflow,
        inputs,
        nodes,
        aborting: exec.phase === "ABORTING",
        maxParallelism,
      });
      let progressed = false;
      for (const a of actions) {
        switch (a.kind) {
          case "start-node":
            progressed = (await startNode(ctx, trx, exec, a.node, a.inputs, run)) || progressed;
            break;
          case "abort-node":
            await abortNode(ctx, trx, exec, a.nodeId);
            progressed = true;
            break;
          case "skip-node":
            await ctx.nodeEvent(trx, exec, a.nodeId, NodePhase.SKIPPED);
            progressed = true;
            break;
          case "succeed":
            await ctx.workflowEvent(trx, exec, WfPhase.SUCCEEDED, { outputs: a.outputs });
            await wakeParent(trx, exec);
            return;
          case "fail":
            await ctx.workflowEvent(trx, exec, WfPhase.FAILED, { error: a.error });
            await wakeParent(trx, exec);
            return;
          case "failing":
            await ctx.workflowEvent(trx, exec, WfPhase.FAILING);
            exec.phase = "FAILING";
            break;
          case "aborted":
            await ctx.workflowEvent(trx, exec, WfPhase.ABORTED);
            await wakeParent(trx, exec);
            return;
        }
      }
      if (!progressed) return;
    }
    await enqueueEvaluation(trx, exec.id);
  }
}
