// Which executions are evaluated together, in which transaction: claimed evaluations in groups (one transaction,
// one write for all; one by one should the group fail), and the first evaluations of executions in the transaction
// that creates them. Each execution is evaluated by evaluator.ts.
import type { Knex } from "knex";
import type { CreatedWork, WorkItemRow } from "../repositories/work-repo.js";
import type { EngineContext } from "./engine-context.js";
import { isTransient } from "./evaluation-errors.js";
import { evaluateIn } from "./evaluator.js";
import { failEvaluation } from "./failed-evaluations.js";
import { engineTransaction } from "./handed-attempts.js";

/** How long the evaluation that runs with an execution's creation may work (the creator waits for it). */
const CREATE_SLICE_MS = 50;

/**
 * Evaluates claimed `evaluate` items together: one transaction locks and loads all their executions, evaluates each,
 * and writes everything — items completed, watchers told — in one statement before commit. When that transaction
 * fails (one execution's evaluation throws, or a deadlock), each item is evaluated in a transaction of its own.
 */
export async function evaluateExecutions(
  ctx: EngineContext,
  items: readonly WorkItemRow[],
  owner: string,
): Promise<void> {
  if (items.length > 1) {
    try {
      await evaluateTogether(ctx, items, owner);
      return;
    } catch (err) {
      ctx.logger.warn("evaluating executions together failed; evaluating them one by one", {
        executions: items.length,
        error: err,
      });
    }
  }
  for (const item of items) {
    try {
      await evaluateTogether(ctx, [item], owner);
    } catch (err) {
      await settleFailure(ctx, item, owner, err);
    }
  }
}

/**
 * An evaluation that threw: tried again when its lease expires if the error may pass (the database, the blob store),
 * else its execution fails (see evaluation-errors.ts), so no execution waits forever on a retry that cannot succeed.
 */
async function settleFailure(
  ctx: EngineContext,
  item: WorkItemRow,
  owner: string,
  err: unknown,
): Promise<void> {
  if (ctx.stopping || isTransient(err)) {
    ctx.logger.warn("evaluation failed; it is retried when its lease expires", {
      executionId: item.execution_id,
      error: err,
    });
    return;
  }
  try {
    await failEvaluation(ctx, item, owner, err);
  } catch (failing) {
    ctx.logger.error(
      "failing an execution that cannot be evaluated failed; it is retried when its lease expires",
      {
        executionId: item.execution_id,
        error: failing,
      },
    );
  }
}

async function evaluateTogether(ctx: EngineContext, items: readonly WorkItemRow[], owner: string) {
  const ids = [...new Set(items.map((i) => i.execution_id))];
  await engineTransaction(ctx, owner, async (trx) => {
    const batch = ctx.batch(trx);
    await batch.lock(ids, true);
    await evaluateIn(ctx, trx, ids);
    batch.complete(
      items.map((i) => i.id),
      owner,
    );
  });
}

/**
 * Runs `write`, which creates executions and returns their first evaluations' work items (leased to `owner`), and
 * those evaluations in one transaction: what they start is committed with their creation. Each works for at most
 * CREATE_SLICE_MS; the rest is queued.
 */
export function evaluateCreated<T>(
  ctx: EngineContext,
  owner: string,
  write: (trx: Knex) => Promise<CreatedWork<T>>,
): Promise<T> {
  return engineTransaction(ctx, owner, async (trx) => {
    const written = await write(trx);
    const ids = [...new Set(written.work.map((w) => w.execution_id))];
    if (ids.length === 0) return written.value;
    ctx.batch(trx).adoptCreated(written.created);
    await evaluateIn(ctx, trx, ids, CREATE_SLICE_MS);
    ctx.batch(trx).complete(
      written.work.map((w) => w.id),
      owner,
    );
    return written.value;
  });
}
