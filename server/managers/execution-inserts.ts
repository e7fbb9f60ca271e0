// Writing new executions: the rows of concurrent CreateExecution calls in one INSERT statement, committed with their
// first evaluations by the local engine (what those start is written with them), else handed to it after commit.
import type { Knex } from "knex";
import { Coalescer, type Outcome } from "../coalescer.js";
import { internal } from "../errors.js";
import {
  type CreateOutcome,
  insertExecutions,
  type NewExecution,
} from "../repositories/execution-create-repo.js";
import {
  type CreatedExecution,
  handedEvaluation,
  type LocalEngine,
  type WorkItemRow,
} from "../repositories/work-repo.js";

/** Most executions written by one statement. */
const MAX_INSERT_BATCH = 64;

export class ExecutionInserts {
  /** The engine that evaluates new executions first (set once it runs). */
  localEngine: LocalEngine | undefined;
  private readonly batches = new Coalescer<NewExecution, CreateOutcome>((items) => this.insertBatch(items), {
    maxBatch: MAX_INSERT_BATCH,
    key: ({ row }) => JSON.stringify([row.execution_project, row.execution_domain, row.execution_name]),
  });

  constructor(private readonly db: Knex) {}

  /**
   * Writes one execution. A child execution is written at once, on its own: its parent's evaluation waits for it, and
   * may be the evaluation that a batch waits for; `deferStart` hands its first evaluation to the engine.
   */
  async insert(item: NewExecution, deferStart?: (start: () => void) => void): Promise<CreateOutcome> {
    if (item.row.parent_node_execution_id === null) return this.batches.submit(item);
    const [outcome] = await this.insertBatch([item], deferStart);
    if (outcome === undefined) throw internal("no outcome");
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /**
   * One statement for the executions created concurrently, committed with their first evaluations by the local
   * engine (a child's apart); should that fail, the statement runs on its own (rows of a failed statement retried one
   * by one) and the engine evaluates after.
   */
  private async insertBatch(
    items: readonly NewExecution[],
    deferStart: (start: () => void) => void = (start) => start(),
  ): Promise<Outcome<CreateOutcome>[]> {
    const engine = this.localEngine;
    if (engine?.evaluateWith !== undefined && items.every((i) => i.row.parent_node_execution_id === null)) {
      const evaluated = await engine
        .evaluateWith(async (trx) => {
          const outcomes = await insertExecutions(trx, items, engine);
          const value = outcomes.map((o): Outcome<CreateOutcome> => ({ ok: true, value: o }));
          return { value, work: firstEvaluations(engine, value), created: createdRows(items, outcomes) };
        })
        .catch(() => undefined); // the engine reported it; created and evaluated apart below
      if (evaluated !== undefined) return evaluated.value;
    }
    const outcomes = await this.insertAll(items);
    if (engine !== undefined) {
      const work = firstEvaluations(engine, outcomes);
      if (work.length > 0) deferStart(() => engine.accept(work));
    }
    return outcomes;
  }

  private async insertAll(items: readonly NewExecution[]): Promise<Outcome<CreateOutcome>[]> {
    const lease = this.localEngine;
    try {
      return (await insertExecutions(this.db, items, lease)).map((value) => ({ ok: true, value }));
    } catch (err) {
      if (items.length === 1) throw err;
    }
    const outcomes: Outcome<CreateOutcome>[] = [];
    for (const item of items) {
      try {
        const [value] = await insertExecutions(this.db, [item], lease);
        outcomes.push(
          value === undefined ? { ok: false, error: internal("no outcome") } : { ok: true, value },
        );
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }
}

/** The rows created, each with its inputs blob's bytes. */
function createdRows(items: readonly NewExecution[], outcomes: readonly CreateOutcome[]): CreatedExecution[] {
  return outcomes.flatMap((o, i): CreatedExecution[] => {
    if (o.kind !== "created") return [];
    const inputs = items[i]?.extras.blobs.find((b) => b.uri === o.row.inputs_uri)?.data;
    return [{ row: o.row, inputs }];
  });
}

/** The first evaluations of the executions created, as the engine they were leased to claims them. */
function firstEvaluations(engine: LocalEngine, outcomes: readonly Outcome<CreateOutcome>[]): WorkItemRow[] {
  return outcomes.flatMap((o): WorkItemRow[] =>
    o.ok && o.value.kind === "created" ? [handedEvaluation(engine, o.value.workItemId, o.value.row.id)] : [],
  );
}
