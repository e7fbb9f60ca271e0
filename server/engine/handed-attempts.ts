// Task attempts handed to this engine by the transaction that starts their nodes: the transaction records the
// attempt RUNNING with a work item leased to this engine, and once it commits the engine runs the attempt at once
// (no NOTIFY, no claim, no transaction of its own to record RUNNING); its result is recorded as a claimed attempt's
// is (task-runner.ts). The attempt is recorded before its process starts, so a crash at any point leaves a lease that
// expires and an attempt that is retried as lost, never one that ran unrecorded.
import type { Knex } from "knex";
import { TaskExecution_Phase as TaskPhase } from "../../gen/flyteidl/core/execution_pb.js";
import type { Identifier } from "../../gen/flyteidl/core/identifier_pb.js";
import type { LiteralMap } from "../../gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import type { EventBatch } from "../managers/event-batch.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type { WorkItemRow } from "../repositories/work-repo.js";
import { type PreparedAttempt, prepareAttempt } from "./attempt-prep.js";
import type { EngineContext } from "./engine-context.js";

/** Only the process runtime is handed over (Docker containers and external workers start on their own time). */
const HANDED_PLUGIN = "container-process";

/** An attempt recorded RUNNING under a work item leased to this engine, for the engine to run and finish. */
export interface HandedAttempt {
  readonly prepared: PreparedAttempt;
  readonly item: WorkItemRow;
  readonly owner: string;
  /** Whether its log files are still to be opened (written empty, so that the links work, then followed). */
  readonly open: boolean;
}

export class HandedAttempts {
  private readonly prepared: PreparedAttempt[] = [];
  private readonly ended: (() => void)[] = [];
  private batch: EventBatch | undefined;

  constructor(
    private readonly ctx: EngineContext,
    private readonly owner: string,
  ) {}

  /** Records attempt 0 of a (top-level) task node RUNNING, to run after commit, if the engine has room for it. */
  async start(
    trx: Knex,
    exec: ExecutionRow,
    node: Node,
    ref: Identifier,
    template: TaskTemplate,
    inputs: LiteralMap,
  ): Promise<boolean> {
    const ctx = this.ctx;
    if (ctx.plugins(template)?.name !== HANDED_PLUGIN || ctx.stopping) return false;
    const row = await ctx.batch(trx).liveNode(exec.id, node.id);
    if (row === undefined || ctx.reserveSlot?.() !== true) return false;
    const workflowId = (await ctx.compiledWorkflow(trx, exec.workflow_id)).primary?.template?.id;
    const spec = { node, ref, template, ...(workflowId === undefined ? {} : { workflowId }) };
    const read = (uri: string) => ctx.readData(trx, uri);
    let prepared: PreparedAttempt;
    try {
      prepared = await prepareAttempt(ctx, trx, exec, row, spec, 0, read, inputs);
    } catch (err) {
      ctx.releaseSlot?.();
      throw err;
    }
    this.prepared.push(prepared);
    await ctx.taskEvent(trx, exec, node.id, ref, 0, TaskPhase.RUNNING, {
      taskType: template.type,
      ...(prepared.container ? { logs: prepared.logLinks } : {}),
    });
    return true;
  }

  /**
   * Before commit: the attempts get their work items, leased to this engine, written with the batch; those whose
   * node the transaction stopped meanwhile (its attempt recorded ABORTED) are dropped.
   */
  async lease(trx: Knex): Promise<void> {
    const batch = this.ctx.batch(trx);
    this.batch = batch;
    const running: PreparedAttempt[] = [];
    for (const p of this.prepared) {
      const { execution_id, node_id } = p.record.item;
      if ((await batch.liveNode(execution_id, node_id))?.phase === "RUNNING") running.push(p);
      else this.ctx.releaseSlot?.();
    }
    this.prepared.splice(0, this.prepared.length, ...running);
    const attempts = running.map((p) => p.record.item);
    if (attempts.length > 0) batch.leaseTasks(this.owner, this.ctx.options.leaseMs, attempts);
  }

  /** Runs `fn` once the transaction has ended, committed or not (what must not start before its writes are seen). */
  afterEnd(fn: () => void): void {
    this.ended.push(fn);
  }

  private end(): void {
    for (const fn of this.ended.splice(0)) fn();
  }

  /** After commit: the engine runs the attempts. */
  run(): void {
    this.end();
    for (const prepared of this.prepared) {
      const k = prepared.record.item;
      const id = this.batch?.leasedItem(k);
      if (id === undefined) {
        // Cannot happen (the batch wrote them all); were it to, the attempt would be retried as lost.
        this.ctx.logger.error("a handed attempt got no work item", {
          executionId: k.execution_id,
          node: k.node_id,
        });
        this.ctx.releaseSlot?.();
        continue;
      }
      const item: WorkItemRow = {
        id,
        ...k,
        kind: "run_task",
        run_after: new Date(),
        leased_by: this.owner,
        lease_until: new Date(Date.now() + this.ctx.options.leaseMs),
      };
      this.ctx.adopt?.({ prepared, item, owner: this.owner, open: true });
    }
  }

  /** The transaction failed: nothing was recorded, nothing runs. */
  abort(): void {
    this.end();
    for (const _ of this.prepared) this.ctx.releaseSlot?.();
  }
}

/**
 * An engine transaction whose task nodes may hand their attempts to this engine (see above): leased before commit,
 * run after it, dropped if it fails.
 */
export async function engineTransaction<T>(
  ctx: EngineContext,
  owner: string,
  fn: (trx: Knex) => Promise<T>,
): Promise<T> {
  const attempts = new HandedAttempts(ctx, owner);
  let out: T;
  try {
    out = await ctx.transaction(async (trx) => {
      ctx.handed.set(trx, attempts);
      const result = await fn(trx);
      await attempts.lease(trx);
      return result;
    });
  } catch (err) {
    attempts.abort();
    throw err;
  }
  attempts.run();
  return out;
}
