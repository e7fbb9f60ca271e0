// SQL for signals.
import type { Knex } from "knex";
import { listPage } from "./list-page.js";
import type { ListSpec, Page, PageRequest } from "./list-spec.js";
import { withDbErrors } from "./pg-errors.js";
import { prepared } from "./prepared.js";
import { LEASE_CTE, LEASED_VALUES, leaseBindings, WORK_CHANNEL, type WorkLease } from "./work-repo.js";

export interface SignalKey {
  readonly execution_project: string;
  readonly execution_domain: string;
  readonly execution_name: string;
  readonly signal_id: string;
}

export interface SignalRow extends SignalKey {
  id: string;
  type: Buffer;
  value: Buffer | null;
  created_at: Date;
  updated_at: Date;
}

const c = (sql: string, kind?: "int" | "timestamp" | "bytes") =>
  kind === undefined ? { sql } : { sql, kind };

const SIGNAL_LIST: ListSpec = {
  rpcName: "ListSignals",
  primary: "s",
  entities: {
    s: {
      id: c("s.id", "int"),
      created_at: c("s.created_at", "timestamp"),
      updated_at: c("s.updated_at", "timestamp"),
      execution_project: c("s.execution_project"),
      execution_domain: c("s.execution_domain"),
      execution_name: c("s.execution_name"),
      signal_id: c("s.signal_id"),
      type: c("s.type", "bytes"),
      value: c("s.value", "bytes"),
    },
  },
  sortKeys: {
    id: { sql: "s.id", type: "bigint" },
    created_at: { sql: "s.created_at", type: "timestamptz" },
    updated_at: { sql: "s.updated_at", type: "timestamptz" },
    signal_id: { sql: "s.signal_id", type: "text" },
  },
  defaultSort: { key: "created_at", direction: "asc" },
  tieBreaker: { sql: "s.id", type: "bigint" },
};

/** Inserts the signal unless it exists; returns the stored row either way. */
/** The signal, created (with its type) when it does not exist yet; one statement. */
export function getOrCreateSignal(db: Knex, key: SignalKey, type: Buffer): Promise<SignalRow> {
  return withDbErrors(async () => {
    const where = "execution_project = ? AND execution_domain = ? AND execution_name = ? AND signal_id = ?";
    const k = [key.execution_project, key.execution_domain, key.execution_name, key.signal_id];
    const r = (await db.raw(
      `WITH ins AS (
         INSERT INTO signals (execution_project, execution_domain, execution_name, signal_id, type)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (execution_project, execution_domain, execution_name, signal_id) DO NOTHING
         RETURNING *)
       SELECT * FROM ins UNION ALL SELECT * FROM signals WHERE ${where} AND NOT EXISTS (SELECT 1 FROM ins)`,
      [...k, type, ...k],
    )) as { rows: SignalRow[] };
    return r.rows[0] as SignalRow;
  });
}

/**
 * Locks the signal's execution (FOR KEY SHARE, when it exists) for the transaction that sets the signal. An
 * evaluation locks its execution and then reads its gates' signals; without this lock, setSignalValue would lock the
 * signal row first and ask for the execution afterwards (for the work item's foreign key), and the two deadlock.
 */
export function lockSignalExecution(db: Knex, key: SignalKey): Promise<void> {
  return withDbErrors(async () => {
    await prepared(
      db,
      `SELECT 1 FROM executions
        WHERE execution_project = ? AND execution_domain = ? AND execution_name = ? FOR KEY SHARE`,
      [key.execution_project, key.execution_domain, key.execution_name],
    );
  });
}

export function getSignal(db: Knex, key: SignalKey): Promise<SignalRow | undefined> {
  return withDbErrors(() => db("signals").where(key).first() as Promise<SignalRow | undefined>);
}

/**
 * Stores a signal's value and asks for an evaluation of its execution, in one statement: the gate waiting for it
 * moves on at once. Run it after lockSignalExecution, in the same transaction. The signal is found by id, or by key
 * when its stored type is exactly `type` (the caller's fast path for a value of that type). With `lease`, the
 * evaluation is written leased to that engine (for it to be handed over; no NOTIFY). Undefined when nothing was
 * stored.
 */
export function setSignalValue(
  db: Knex,
  at: { readonly id: string } | { readonly key: SignalKey; readonly type: Buffer },
  value: Buffer,
  setBy: string,
  lease?: WorkLease,
): Promise<
  { readonly workItemId: string; readonly executionId: string; readonly leased: boolean } | undefined
> {
  const [where, bindings] =
    "id" in at
      ? ["id = ?", [at.id]]
      : [
          "execution_project = ? AND execution_domain = ? AND execution_name = ? AND signal_id = ? AND type = ?",
          [
            at.key.execution_project,
            at.key.execution_domain,
            at.key.execution_name,
            at.key.signal_id,
            at.type,
          ],
        ];
  return withDbErrors(async () => {
    const r = (await prepared(
      db,
      `WITH s AS (
         UPDATE signals SET value = ?, set_by = ?, updated_at = now() WHERE ${where}
         RETURNING execution_project, execution_domain, execution_name),
       ${LEASE_CTE},
       queued AS (
         INSERT INTO work_items (execution_id, kind, run_after, leased_by, lease_until)
         SELECT x.id, 'evaluate', clock_timestamp(), ${LEASED_VALUES}
           FROM executions x JOIN s
             ON x.execution_project = s.execution_project AND x.execution_domain = s.execution_domain
            AND x.execution_name = s.execution_name, lease
         ON CONFLICT (execution_id) WHERE kind = 'evaluate' AND leased_by IS NULL
         DO UPDATE SET run_after = LEAST(work_items.run_after, EXCLUDED.run_after)
         RETURNING id, execution_id, leased_by)
       SELECT q.id::text AS work_item_id, q.execution_id::text AS execution_id, q.leased_by IS NOT NULL AS leased,
              (SELECT pg_notify('${WORK_CHANNEL}', '') FROM lease WHERE lease.owner IS NULL) AS notified
         FROM queued q`,
      [value, setBy, ...bindings, ...leaseBindings(lease)],
    )) as { rows: { work_item_id: string; execution_id: string; leased: boolean }[] };
    const row = r.rows[0];
    return row === undefined
      ? undefined
      : { workItemId: row.work_item_id, executionId: row.execution_id, leased: row.leased };
  });
}

export function listSignals(
  db: Knex,
  execution: { project: string; domain: string; name: string },
  req: PageRequest,
): Promise<Page<SignalRow>> {
  const qb = db("signals as s").select("s.*").where({
    "s.execution_project": execution.project,
    "s.execution_domain": execution.domain,
    "s.execution_name": execution.name,
  });
  return listPage<SignalRow>(qb, req, SIGNAL_LIST);
}
