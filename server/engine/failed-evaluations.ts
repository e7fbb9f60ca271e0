// Ends an execution whose evaluation cannot succeed (see evaluation-errors.ts) instead of leaving its work item to be
// tried again every lease, forever: the node it failed at fails, what still runs is aborted, the execution fails.
import type { Knex } from "knex";
import {
  type ExecutionError,
  NodeExecution_Phase as NodePhase,
  WorkflowExecution_Phase as WfPhase,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type { WorkItemRow } from "../repositories/work-repo.js";
import { TERMINAL_WORKFLOW_PHASES, workflowPhase } from "../transformers/execution.js";
import { wakeParent } from "./child-executions.js";
import type { EngineContext } from "./engine-context.js";
import { evaluationFailure, failedNodeOf } from "./evaluation-errors.js";
import { abortNode, stopNodeWork } from "./node-actions.js";

/**
 * Fails the execution of an evaluation that threw `err` (an error that cannot pass) and completes its work item. The
 * node's failure and the aborts are recorded first; should they fail too (the node's own events may be what
 * fails), the execution alone fails. An execution being aborted is aborted.
 */
export async function failEvaluation(
  ctx: EngineContext,
  item: WorkItemRow,
  owner: string,
  err: unknown,
): Promise<void> {
  const error = evaluationFailure(err);
  ctx.logger.error("evaluation cannot succeed; the execution fails", {
    executionId: item.execution_id,
    node: failedNodeOf(err),
    error: err,
  });
  try {
    await endExecution(ctx, item, owner, error, failedNodeOf(err));
  } catch (stopping) {
    ctx.logger.warn("stopping the nodes of an execution that cannot be evaluated failed; failing it alone", {
      executionId: item.execution_id,
      error: stopping,
    });
    await endExecution(ctx, item, owner, error, undefined, false);
  }
}

async function endExecution(
  ctx: EngineContext,
  item: WorkItemRow,
  owner: string,
  error: ExecutionError,
  nodeId: string | undefined,
  stopNodes = true,
): Promise<void> {
  await ctx.transaction(async (trx) => {
    const batch = ctx.batch(trx);
    const [exec] = await batch.lock([item.execution_id]);
    batch.complete([item.id], owner);
    if (exec === undefined || TERMINAL_WORKFLOW_PHASES.has(workflowPhase(exec.phase))) return;
    if (stopNodes) await stopRunningNodes(ctx, trx, exec, error, nodeId);
    const outcome = exec.phase === "ABORTING" ? { phase: WfPhase.ABORTED } : { phase: WfPhase.FAILED, error };
    await ctx.workflowEvents(trx, exec, [outcome]);
    await wakeParent(trx, exec);
    batch.notifyWatchers(exec.id);
  });
}

/** The node the evaluation failed at fails (with what runs under it); the other running top-level nodes abort. */
async function stopRunningNodes(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  error: ExecutionError,
  nodeId: string | undefined,
): Promise<void> {
  const running = async () =>
    (await ctx.batch(trx).liveNodeRows(exec.id)).filter((r) => r.phase === "QUEUED" || r.phase === "RUNNING");
  const failed = (await running()).find((r) => r.node_id === nodeId);
  if (failed !== undefined) await stopNodeWork(ctx, trx, exec, failed.node_id, NodePhase.FAILED, error);
  const others = (await running()).filter((r) => r.parent_id === null);
  for (const r of others) await abortNode(ctx, trx, exec, r.node_id);
}
