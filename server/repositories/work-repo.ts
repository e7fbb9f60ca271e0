// The engine's work queue: enqueue (with NOTIFY in the same transaction), claim under a lease, complete.
import type { Knex } from "knex";
import type { ExecutionRow } from "./execution-repo.js";
import { withDbErrors } from "./pg-errors.js";
import { prepared } from "./prepared.js";

export const WORK_CHANNEL = "petrel_work";

export type WorkKind = "evaluate" | "run_task";

export interface WorkItemRow {
  id: string;
  execution_id: string;
  kind: WorkKind;
  node_id: string;
  attempt: number;
  run_after: Date;
  leased_by: string | null;
  lease_until: Date | null;
}

/** An execution row a transaction wrote, with its inputs blob (bytes, when known) for the evaluation that follows. */
export interface CreatedExecution {
  readonly row: ExecutionRow;
  readonly inputs: Uint8Array | undefined;
}

/** What `evaluateWith`'s write did: its result, the first evaluations it queued and the rows they evaluate. */
export interface CreatedWork<T> {
  readonly value: T;
  readonly work: readonly WorkItemRow[];
  readonly created: readonly CreatedExecution[];
}

/**
 * An engine in this process: statements that queue an evaluation write it already leased to this engine and hand
 * it over in memory (no NOTIFY, no claim). Should the process die first, the lease expires and any engine claims it.
 */
export interface LocalEngine {
  readonly owner: string;
  readonly leaseMs: number;
  accept(items: readonly WorkItemRow[]): void;
  /**
   * Runs `write`, which creates executions and returns them with their first evaluations' work items (leased to this
   * engine), and those evaluations, in one transaction: one commit for both. Undefined when the engine is not running
   * (nothing was written).
   */
  evaluateWith?<T>(write: (trx: Knex) => Promise<CreatedWork<T>>): Promise<{ readonly value: T } | undefined>;
}

/** The engine a statement leases the evaluation it queues to (see the `lease` CTE below). */
export type WorkLease = Pick<LocalEngine, "owner" | "leaseMs">;

/**
 * SQL pieces for statements that queue an evaluation leased to a local engine, or unleased (owner NULL, and the
 * statement then sends NOTIFY): the `lease` CTE (bound with leaseBindings) and the `leased_by, lease_until`
 * values of the row written under it.
 */
export const LEASE_CTE =
  "lease AS (SELECT ?::text AS owner, now() + (?::text || ' milliseconds')::interval AS until)";
export const LEASED_VALUES = "lease.owner, CASE WHEN lease.owner IS NOT NULL THEN lease.until END";
export const leaseBindings = (lease: WorkLease | undefined): (string | null)[] => [
  lease?.owner ?? null,
  String(lease?.leaseMs ?? 0),
];

/** The evaluation work item a statement wrote leased to `engine`, as the engine claims it. */
export function handedEvaluation(engine: LocalEngine, id: string, executionId: string): WorkItemRow {
  return {
    id,
    execution_id: executionId,
    kind: "evaluate",
    node_id: "",
    attempt: 0,
    run_after: new Date(),
    leased_by: engine.owner,
    lease_until: new Date(Date.now() + engine.leaseMs),
  };
}

/** Asks for an evaluation of the execution; pending requests fold into one. */
export function enqueueEvaluation(db: Knex, executionId: string, delayMs = 0): Promise<void> {
  return withDbErrors(async () => {
    await db.raw(
      `WITH queued AS (
         INSERT INTO work_items (execution_id, kind, run_after) VALUES (?, 'evaluate', clock_timestamp() + (? || ' milliseconds')::interval)
         ON CONFLICT (execution_id) WHERE kind = 'evaluate' AND leased_by IS NULL
         DO UPDATE SET run_after = LEAST(work_items.run_after, EXCLUDED.run_after))
       SELECT pg_notify('${WORK_CHANNEL}', '')`,
      [executionId, String(delayMs)],
    );
  });
}

/** Queues a task attempt; with `queue` (a task name) it waits for an external worker instead of the engine. */
export function enqueueTask(
  db: Knex,
  executionId: string,
  nodeId: string,
  attempt: number,
  delayMs = 0,
  queue: string | null = null,
): Promise<void> {
  return withDbErrors(async () => {
    await db.raw(
      `WITH queued AS (
         INSERT INTO work_items (execution_id, kind, node_id, attempt, run_after, queue)
         VALUES (?, 'run_task', ?, ?, clock_timestamp() + (? || ' milliseconds')::interval, ?))
       SELECT pg_notify('${WORK_CHANNEL}', '')`,
      [executionId, nodeId, attempt, String(delayMs), queue],
    );
  });
}

export interface Claim {
  readonly items: WorkItemRow[];
  /** How long until the next unclaimed item becomes ready (for the poll fallback); undefined when there is none. */
  readonly nextReadyMs: number | undefined;
}

/**
 * Claims up to `limit` ready items (or items whose lease expired) for `owner`, in one statement; with
 * `evaluations: false` only task attempts (the caller has enough evaluations in flight).
 */
export function claimWork(
  db: Knex,
  owner: string,
  limit: number,
  leaseMs: number,
  evaluations = true,
): Promise<Claim> {
  const kinds = evaluations ? "" : "AND kind <> 'evaluate'";
  // Two ordered sources, each served by its partial index (0013): items nobody holds that are due, and expired
  // leases. The locking SELECT repeats their conditions: an item another engine claimed since this statement's
  // snapshot is locked only after that claim committed, and Postgres re-checks the locking query's own conditions
  // (not the CTE's) on the claimed row, so without them it would be claimed twice. `next` is when the earliest item
  // not claimed here becomes due (a lease that expires before its item's run_after only wakes the loop early).
  const unleased = `FROM work_items WHERE lease_until IS NULL AND queue IS NULL ${kinds}`;
  const leased = `FROM work_items WHERE lease_until IS NOT NULL AND queue IS NULL ${kinds}`;
  return withDbErrors(async () => {
    const r = await prepared(
      db,
      `WITH candidates AS (
         (SELECT id ${unleased} AND run_after <= now() ORDER BY run_after, id LIMIT ?)
         UNION ALL
         (SELECT id ${leased} AND lease_until < now() AND run_after <= now() ORDER BY lease_until LIMIT ?)),
       claimed AS (
         UPDATE work_items w SET leased_by = ?, lease_until = now() + (? || ' milliseconds')::interval
          WHERE w.id IN (
            SELECT id FROM work_items
             WHERE id IN (SELECT id FROM candidates) AND queue IS NULL AND run_after <= now()
               AND (lease_until IS NULL OR lease_until < now()) ${kinds}
             ORDER BY run_after, id
             LIMIT ? FOR UPDATE SKIP LOCKED)
         RETURNING w.*),
       next AS (
         SELECT EXTRACT(EPOCH FROM (LEAST(
                  (SELECT min(run_after) ${unleased} AND id NOT IN (SELECT id FROM claimed)),
                  (SELECT min(lease_until) ${leased} AND id NOT IN (SELECT id FROM claimed))) - now())) * 1000 AS next_ms)
       SELECT next.next_ms, claimed.* FROM next LEFT JOIN claimed ON true ORDER BY claimed.run_after, claimed.id`,
      [limit, limit, owner, String(leaseMs), limit],
    );
    const rows = (r as { rows: (WorkItemRow & { next_ms: string | null })[] }).rows;
    const ms = rows[0]?.next_ms;
    return {
      items: rows.filter((row) => row.id !== null).map(({ next_ms: _, ...item }) => item),
      nextReadyMs: ms === null || ms === undefined ? undefined : Math.max(0, Number(ms)),
    };
  });
}

/** Claims one attempt waiting in one of the named queues (for an external worker). */
export function claimQueued(
  db: Knex,
  owner: string,
  queues: readonly string[],
  leaseMs: number,
): Promise<WorkItemRow | undefined> {
  if (queues.length === 0) return Promise.resolve(undefined);
  return withDbErrors(async () => {
    const r = await db.raw(
      `UPDATE work_items w SET leased_by = ?, lease_until = now() + (? || ' milliseconds')::interval
        WHERE w.id IN (
          SELECT id FROM work_items
           WHERE queue = ANY(?) AND run_after <= now() AND (lease_until IS NULL OR lease_until < now())
           ORDER BY run_after, id
           LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING w.*`,
      [owner, String(leaseMs), [...queues]],
    );
    return (r as { rows: WorkItemRow[] }).rows[0];
  });
}

export function getWorkItem(db: Knex, id: string): Promise<WorkItemRow | undefined> {
  return withDbErrors(() => db("work_items").where({ id }).first() as Promise<WorkItemRow | undefined>);
}

export function extendLease(db: Knex, id: string, owner: string, leaseMs: number): Promise<boolean> {
  return withDbErrors(async () => {
    const n = await db("work_items")
      .where({ id, leased_by: owner })
      .update({ lease_until: db.raw("now() + (? || ' milliseconds')::interval", [String(leaseMs)]) });
    return n > 0;
  });
}

/** Removes a finished item; false when the lease was lost (another owner took it over). */
export function completeWork(db: Knex, id: string, owner: string): Promise<boolean> {
  return withDbErrors(async () => (await db("work_items").where({ id, leased_by: owner }).delete()) > 0);
}

/** Hands an item back to the queue at once (this process is stopping before it finished). */
export function releaseWork(db: Knex, id: string, owner: string): Promise<void> {
  return withDbErrors(async () => {
    await db("work_items").where({ id, leased_by: owner }).update({ leased_by: null, lease_until: null });
    await db.raw(`NOTIFY ${WORK_CHANNEL}`);
  });
}
