// The engine's side of petrel.v1.WorkerService: external workers poll queued attempts of "worker" tasks, keep
// their lease alive with heartbeats, and complete through the same recording path as in-process plugins.
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { ExecutionError } from "../../gen/flyteidl/core/execution_pb.js";
import { TaskExecution_Phase as TaskPhase } from "../../gen/flyteidl/core/execution_pb.js";
import type { LiteralMap } from "../../gen/flyteidl/core/literals_pb.js";
import { type TaskLease, TaskLeaseSchema } from "../../gen/petrel/v1/worker_pb.js";
import { failedPrecondition, invalidArgument } from "../errors.js";
import { getExecutionById } from "../repositories/execution-repo.js";
import { getNodeExecution } from "../repositories/node-execution-repo.js";
import { getTaskExecution } from "../repositories/task-execution-repo.js";
import {
  claimQueued,
  completeWork,
  extendLease,
  getWorkItem,
  releaseWork,
  type WorkItemRow,
} from "../repositories/work-repo.js";
import { executionId, TERMINAL_WORKFLOW_PHASES, workflowPhase } from "../transformers/execution.js";
import { decodeLiteralMap } from "../transformers/literals.js";
import { taskOf } from "./attempt-spec.js";
import type { EngineContext } from "./engine-context.js";
import { recordResult, retryLostAttempt } from "./task-runner.js";

const MAX_WAIT_MS = 30_000;
const POLL_STEP_MS = 50;
const MAX_WORKER_LEASE_MS = 10_000;

function parseLease(leaseId: string): { id: string; owner: string } {
  const slash = leaseId.indexOf("/");
  if (slash <= 0) throw invalidArgument(`invalid lease id [${leaseId}]`);
  return { id: leaseId.slice(0, slash), owner: leaseId.slice(slash + 1) };
}

export class WorkerQueue {
  constructor(private readonly ctx: EngineContext) {}

  /**
   * A worker's lease: short (workers heartbeat at a third of it), so an attempt whose lease never reached a worker
   * (its poll was cancelled as the answer went out) is polled again within seconds, not after the engine's lease.
   */
  private get leaseMs(): number {
    return Math.min(this.ctx.options.leaseMs, MAX_WORKER_LEASE_MS);
  }

  async poll(
    workerId: string,
    taskNames: readonly string[],
    waitMs: number,
    signal: AbortSignal,
  ): Promise<TaskLease | undefined> {
    const owner = `worker:${workerId || "anonymous"}:${randomUUID().slice(0, 8)}`;
    const deadline = Date.now() + Math.min(Math.max(waitMs, 0), MAX_WAIT_MS);
    for (;;) {
      const item = await claimQueued(this.ctx.db, owner, taskNames, this.leaseMs);
      if (item !== undefined && signal.aborted) {
        // The worker went away while the attempt was being claimed: no one would receive the lease, so the
        // attempt goes back to the queue at once (instead of waiting for the lease to expire).
        await releaseWork(this.ctx.db, item.id, owner);
        return undefined;
      }
      if (item !== undefined) {
        const lease = await this.prepare(item, owner);
        if (lease !== undefined && signal.aborted) {
          // Gone just after: the attempt is RUNNING; released, the next poll treats it as a lost worker's.
          await releaseWork(this.ctx.db, item.id, owner);
          return undefined;
        }
        if (lease !== undefined) return lease;
        continue;
      }
      if (Date.now() >= deadline || signal.aborted) return undefined;
      await new Promise((r) => setTimeout(r, Math.min(POLL_STEP_MS, deadline - Date.now())));
    }
  }

  /** Records the attempt RUNNING and builds the lease; undefined when the item is stale or was a lost attempt. */
  private async prepare(item: WorkItemRow, owner: string): Promise<TaskLease | undefined> {
    const { db } = this.ctx;
    const exec = await getExecutionById(db, item.execution_id);
    const node = exec === undefined ? undefined : await getNodeExecution(db, exec.id, item.node_id);
    if (
      exec === undefined ||
      node === undefined ||
      TERMINAL_WORKFLOW_PHASES.has(workflowPhase(exec.phase)) ||
      node.phase !== "RUNNING"
    ) {
      await completeWork(db, item.id, owner);
      return undefined;
    }
    const spec = await taskOf(this.ctx, db, exec.workflow_id, exec.id, item.node_id);
    const { ref, template } = spec;
    if (ref === undefined || template === undefined) return undefined;
    const key = {
      node_execution_id: node.id,
      project: ref.project,
      domain: ref.domain,
      name: ref.name,
      version: ref.version,
      retry_attempt: item.attempt,
    };
    if ((await getTaskExecution(db, key))?.phase === "RUNNING") {
      await retryLostAttempt(this.ctx, {
        item,
        owner,
        ref,
        template,
        ...(spec.node === undefined ? {} : { node: spec.node }),
      });
      return undefined;
    }
    await this.ctx.transaction(async (trx) => {
      const locked = await this.ctx.lockExecution(trx, exec.id);
      if (locked === undefined) return;
      await this.ctx.taskEvent(trx, locked, item.node_id, ref, item.attempt, TaskPhase.RUNNING, {
        taskType: template.type,
      });
      this.ctx.batch(trx).notifyWatchers(locked.id);
    });
    const inputs = decodeLiteralMap(
      node.input_uri === "" ? undefined : await this.ctx.data.get(db, node.input_uri),
    );
    return create(TaskLeaseSchema, {
      leaseId: `${item.id}/${owner}`,
      taskExecutionId: {
        taskId: ref,
        nodeExecutionId: { nodeId: item.node_id, executionId: executionId(exec) },
        retryAttempt: item.attempt,
      },
      template,
      inputs,
      leaseMs: this.leaseMs,
    });
  }

  /** Extends the lease; true when the attempt should stop (cancelled, or the lease was lost). */
  async heartbeat(leaseId: string): Promise<boolean> {
    const { id, owner } = parseLease(leaseId);
    const kept = await extendLease(this.ctx.db, id, owner, this.leaseMs);
    const item = await getWorkItem(this.ctx.db, id);
    const node =
      item === undefined ? undefined : await getNodeExecution(this.ctx.db, item.execution_id, item.node_id);
    return !kept || node?.phase !== "RUNNING";
  }

  async complete(
    leaseId: string,
    result: { outputs: LiteralMap } | { error: ExecutionError },
  ): Promise<void> {
    const { id, owner } = parseLease(leaseId);
    const item = await getWorkItem(this.ctx.db, id);
    if (item === undefined || item.leased_by !== owner)
      throw failedPrecondition(`lease [${leaseId}] is no longer held`);
    const exec = await getExecutionById(this.ctx.db, item.execution_id);
    if (exec === undefined) throw failedPrecondition(`lease [${leaseId}] is no longer held`);
    const spec = await taskOf(this.ctx, this.ctx.db, exec.workflow_id, exec.id, item.node_id);
    const { ref, template } = spec;
    if (ref === undefined || template === undefined)
      throw failedPrecondition("the task of this lease no longer exists");
    await recordResult(
      this.ctx,
      { item, owner, ref, template, ...(spec.node === undefined ? {} : { node: spec.node }) },
      "outputs" in result ? { ok: true, outputs: result.outputs } : { ok: false, error: result.error },
    );
  }
}
