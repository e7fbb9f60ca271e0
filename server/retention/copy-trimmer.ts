// Drops the database copies of a finished execution's blobs. The copies (repositories/data-store.ts) let the engine
// read small blobs in its own statements while an execution runs; once it has finished, every read (GetExecutionData,
// a recovery, a parent reading a child's outputs) falls back to the blob store, which holds them all (an execution with
// a blob whose store copy is still to be written, in the blob outbox, waits). So a finished execution keeps only its
// rows in Postgres.
// One replica at a time (an advisory lock, COPIES_LOCK) walks the executions in id order from where the last walk
// stopped; those it passes unfinished wait in retention_waiting until they have finished. Deletions hold the same lock
// shared, so the trimmer never drops copies another transaction is deleting (the two could deadlock on them).
import type { Knex } from "knex";
import {
  copiesCursor,
  dirsWithPendingBlobs,
  dropCopiesUnder,
  finishedWaiting,
  saveCopiesProgress,
  TERMINAL_PHASES,
  tryRetentionLock,
  type WalkedExecution,
  walkExecutions,
} from "../repositories/retention-repo.js";
import { executionMetadataDirs } from "../storage/layout.js";

export interface TrimResult {
  /** Executions whose copies were dropped. */
  readonly executions: number;
  /** Copies dropped. */
  readonly copies: number;
  /** Whether a batch was full (more may be waiting). */
  readonly more: boolean;
}

const TERMINAL = new Set(TERMINAL_PHASES);
export const COPIES_LOCK = "petrel.retention.copies";

const dirsOf = (root: string, e: WalkedExecution) => executionMetadataDirs(root, keyOf(e));

export const keyOf = (
  e: Pick<WalkedExecution, "execution_project" | "execution_domain" | "execution_name">,
) => ({
  project: e.execution_project,
  domain: e.execution_domain,
  name: e.execution_name,
});

/**
 * One batch: up to `batch` executions created before `now - afterMs` past the cursor, and up to `batch` waiting ones;
 * the copies of those that finished before then go.
 */
export function trimCopies(
  db: Knex,
  root: string,
  opts: { readonly now: Date; readonly afterMs: number; readonly batch: number },
): Promise<TrimResult> {
  const horizon = opts.now.getTime() - opts.afterMs;
  const finished = (e: WalkedExecution) => TERMINAL.has(e.phase) && e.updated_at.getTime() < horizon;
  return db.transaction(async (trx) => {
    if (!(await tryRetentionLock(trx, COPIES_LOCK))) return { executions: 0, copies: 0, more: false };
    const after = await copiesCursor(trx);
    const window = await walkExecutions(trx, after, opts.batch);
    const young = window.findIndex((e) => e.execution_created_at.getTime() >= horizon);
    const passed = young < 0 ? window : window.slice(0, young);
    const waited = await finishedWaiting(trx, new Date(horizon), opts.batch);
    const dirs = new Map([...passed.filter(finished), ...waited].map((e) => [e.id, dirsOf(root, e)]));
    const pending = await dirsWithPendingBlobs(trx, [...dirs.values()].flat());
    for (const [id, d] of dirs) if (d.some((dir) => pending.has(dir))) dirs.delete(id);
    const copies = await dropCopiesUnder(trx, [...dirs.values()].flat());
    await saveCopiesProgress(
      trx,
      passed.at(-1)?.id ?? after,
      passed.filter((e) => !dirs.has(e.id)).map((e) => e.id),
      waited.filter((e) => dirs.has(e.id)).map((e) => e.id),
    );
    return {
      executions: dirs.size,
      copies,
      more: passed.length === opts.batch || waited.length === opts.batch,
    };
  });
}
