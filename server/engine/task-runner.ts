// Runs task attempts from work items leased to this engine — claimed from the queue, or handed over by the
// transaction that started their nodes (handed-attempts.ts) — under a heartbeated lease (run-attempt.ts), and records
// each result in a transaction that proves the lease is still held and, when the node finished, evaluates the
// execution at once (no queue round trip between a task and its successors).
import type { Knex } from "knex";
import { type TaskLog, TaskExecution_Phase as TaskPhase } from "../../gen/flyteidl/core/execution_pb.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import { getNodeExecution } from "../repositories/node-execution-repo.js";
import { getTaskExecution } from "../repositories/task-execution-repo.js";
import { completeWork, enqueueEvaluation, releaseWork, type WorkItemRow } from "../repositories/work-repo.js";
import { TERMINAL_WORKFLOW_PHASES, workflowPhase } from "../transformers/execution.js";
import { prepareAttempt, runPrepared } from "./attempt-prep.js";
import { taskOf } from "./attempt-spec.js";
import type { EngineContext } from "./engine-context.js";
import { engineTransaction, type HandedAttempt } from "./handed-attempts.js";
import type { TaskResult } from "./plugins/plugin.js";
import { compileResult, type LeasedAttempt, recordFailure, recordOutcome } from "./record-result.js";
import { systemError } from "./run-attempt.js";

/** How long a handed attempt runs before its logs are first written to the store. */
const FIRST_LOG_MS = 100;

/**
 * The attempt was RUNNING on a replica that stopped heartbeating (crashed or lost): a system failure. It is recorded
 * as such and the task runs again as the next attempt, within the budget of system retries.
 */
export async function retryLostAttempt(ctx: EngineContext, a: LeasedAttempt): Promise<void> {
  const { item, owner } = a;
  await ctx.transaction(async (trx) => {
    const exec = await ctx.lockExecution(trx, item.execution_id);
    if (!(await completeWork(trx, item.id, owner)) || exec === undefined) return;
    const node = await ctx.batch(trx).storedNode(exec.id, item.node_id);
    if (node === undefined) return;
    const error = systemError(
      "LostWorker",
      `attempt ${item.attempt} stopped reporting (its replica was lost); retrying`,
    );
    if (await recordFailure(ctx, trx, exec, node, a, { error })) await enqueueEvaluation(trx, exec.id);
  });
}

export async function runTaskItem(ctx: EngineContext, item: WorkItemRow, owner: string): Promise<void> {
  const exec = await ctx.db("executions").where({ id: item.execution_id }).first();
  const node = exec === undefined ? undefined : await getNodeExecution(ctx.db, exec.id, item.node_id);
  if (
    exec === undefined ||
    node === undefined ||
    TERMINAL_WORKFLOW_PHASES.has(workflowPhase(exec.phase)) ||
    node.phase !== "RUNNING"
  ) {
    await completeWork(ctx.db, item.id, owner);
    return;
  }
  const spec = await taskOf(ctx, ctx.db, exec.workflow_id, exec.id, item.node_id);
  const { ref } = spec;
  // An array element runs the element's template (a map task's list outputs narrowed to the element's types).
  const template = spec.element?.template ?? spec.template;
  if (ref === undefined || template === undefined)
    throw new Error(`task of node ${item.node_id} not found in the compiled workflow`);
  const key = {
    node_execution_id: node.id,
    project: ref.project,
    domain: ref.domain,
    name: ref.name,
    version: ref.version,
    retry_attempt: item.attempt,
  };
  if ((await getTaskExecution(ctx.db, key))?.phase === "RUNNING") {
    const lost = { item, owner, ref, template, ...(spec.node === undefined ? {} : { node: spec.node }) };
    await retryLostAttempt(ctx, lost);
    return;
  }
  const prepared = await prepareAttempt(
    ctx,
    ctx.db,
    exec,
    node,
    { ...spec, ref, template },
    item.attempt,
    (uri) => ctx.data.get(ctx.db, uri),
  );
  // A container task's stdout/stderr go to the store as they come; its links are on the RUNNING event already.
  if (prepared.container) await prepared.logs.open();
  await ctx.transaction(async (trx) => {
    const locked = await ctx.lockExecution(trx, exec.id);
    if (locked !== undefined) {
      await ctx.taskEvent(trx, locked, item.node_id, ref, item.attempt, TaskPhase.RUNNING, {
        taskType: template.type,
        ...(prepared.container ? { logs: prepared.logLinks } : {}),
      });
      ctx.batch(trx).notifyWatchers(locked.id);
    }
  });
  await runAttempt(ctx, { prepared, item, owner, open: false });
}

/** Runs a prepared attempt recorded RUNNING under a leased work item, keeps its logs and records its result. */
export async function runAttempt(ctx: EngineContext, h: HandedAttempt): Promise<void> {
  const { prepared, item, owner } = h;
  // A container task's logs are followed in the store while it runs (its links are on its RUNNING event); one
  // that ends within FIRST_LOG_MS writes them only with its result.
  if (h.open && prepared.container) void prepared.logs.open(FIRST_LOG_MS);
  let result: TaskResult;
  try {
    result = await runPrepared(ctx, prepared, item, owner);
  } catch (err) {
    await prepared.logs.close();
    throw err;
  }
  const logged = prepared.container || result.logs !== undefined;
  if (ctx.stopping && !result.ok) {
    if (logged) await prepared.logs.close(result.logs);
    // Interrupted because this engine stops, not failed: the attempt goes back to the queue. The next engine sees
    // it RUNNING and runs it again as a lost attempt (a system retry).
    await releaseWork(ctx.db, item.id, owner).catch((err: unknown) =>
      ctx.logger.warn("handing an interrupted attempt back failed; its lease will expire", {
        executionId: item.execution_id,
        error: err,
      }),
    );
    return;
  }
  const links = logged ? prepared.logLinks : [];
  // The final logs are written with the result (database copies, store copies after the commit, as the engine's
  // other blobs); should the result not be recorded here (the lease was lost), they go to the store directly.
  const logs = logged ? await prepared.logs.finish(result.logs) : [];
  let kept = false;
  try {
    kept = await recordResult(ctx, { ...prepared.record, item, owner }, result, async (trx) => {
      ctx.batch(trx).addBlobs(logs);
      return links;
    });
  } finally {
    if (!kept && logs.length > 0)
      await ctx.data.materialize(logs).catch((err: unknown) =>
        ctx.logger.warn("writing a task's log to the store failed", {
          executionId: item.execution_id,
          error: err,
        }),
      );
  }
}

/**
 * Records a leased attempt's result, if the lease is still held and the node still runs (false when it was not); the
 * execution is then evaluated in the same transaction (queued instead, should that evaluation fail: the result is
 * never lost to it).
 */
export async function recordResult(
  ctx: EngineContext,
  a: LeasedAttempt,
  result: TaskResult,
  store?: (trx: Knex, exec: ExecutionRow) => Promise<TaskLog[]>,
): Promise<boolean> {
  const { item, owner } = a;
  let compiled: Awaited<ReturnType<typeof compileResult>>;
  if (result.ok && "dynamic" in result) {
    const exec = await ctx.db("executions").where({ id: item.execution_id }).first();
    if (exec === undefined) return false;
    compiled = await compileResult(ctx, exec as ExecutionRow, a, result);
  }
  const record = (evaluate: boolean) =>
    engineTransaction(ctx, owner, async (trx) => {
      const { exec, completed } = await ctx
        .batch(trx)
        .lockForAttempt(item.execution_id, item.node_id, evaluate, { itemId: item.id, owner });
      // The lease lost: the new owner records the attempt.
      if (!completed || exec === undefined) return false;
      const node = await ctx.batch(trx).storedNode(exec.id, item.node_id);
      if (node === undefined || node.phase !== "RUNNING") return false; // aborted meanwhile
      const logs = store === undefined ? [] : await store(trx, exec);
      if (!(await recordOutcome(ctx, trx, exec, node, { ...a, logs }, result, compiled))) return true;
      if (evaluate && ctx.evaluate !== undefined) await ctx.evaluate(trx, [exec.id]);
      else await enqueueEvaluation(trx, exec.id);
      return true;
    });
  try {
    return await record(true);
  } catch (err) {
    ctx.logger.warn("evaluating after a task's result failed; the evaluation is queued", {
      executionId: item.execution_id,
      error: err,
    });
    return record(false);
  }
}
