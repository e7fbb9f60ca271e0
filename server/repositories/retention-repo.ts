// The SQL of retention (server/retention): walking the executions in id (creation) order, dropping the database
// copies of blobs under an execution's directories, and deleting old executions with everything keyed by them.
// Migration 0018 made blob URIs compare byte-wise, so one directory's copies are one range of the primary key.
import type { Knex } from "knex";
import { TERMINAL_WORKFLOW_PHASES, workflowPhaseName } from "../transformers/execution.js";
import { withDbErrors } from "./pg-errors.js";

export const TERMINAL_PHASES: readonly string[] = [...TERMINAL_WORKFLOW_PHASES].map(workflowPhaseName);

export interface WalkedExecution {
  readonly id: string;
  readonly execution_project: string;
  readonly execution_domain: string;
  readonly execution_name: string;
  readonly phase: string;
  readonly updated_at: Date;
  readonly execution_created_at: Date;
}

const walked = (t: string) =>
  `${t}.id::text AS id, ${t}.execution_project, ${t}.execution_domain, ${t}.execution_name, ${t}.phase,
   ${t}.updated_at, ${t}.execution_created_at`;

const rowsOf = <T>(r: unknown) => (r as { rows: T[] }).rows;

/** Whether this transaction got the advisory lock `name` (another replica holds it otherwise). */
export function tryRetentionLock(trx: Knex, name: string): Promise<boolean> {
  return withDbErrors(async () => {
    const r = await trx.raw("SELECT pg_try_advisory_xact_lock(hashtextextended(?, 0)) AS ok", [name]);
    return rowsOf<{ ok: boolean }>(r)[0]?.ok === true;
  });
}

/** Takes the advisory lock `name` shared, for this transaction (waiting while a transaction holds it alone). */
export function shareRetentionLock(trx: Knex, name: string): Promise<void> {
  return withDbErrors(async () => {
    await trx.raw("SELECT pg_advisory_xact_lock_shared(hashtextextended(?, 0))", [name]);
  });
}

/** Up to `limit` executions after id `afterId`, in id order. */
export function walkExecutions(db: Knex, afterId: string, limit: number): Promise<WalkedExecution[]> {
  return withDbErrors(async () =>
    rowsOf<WalkedExecution>(
      await db.raw(`SELECT ${walked("e")} FROM executions e WHERE e.id > ? ORDER BY e.id LIMIT ?`, [
        afterId,
        limit,
      ]),
    ),
  );
}

/** Where the copy trimmer's walk stopped (locked for this transaction). */
export function copiesCursor(trx: Knex): Promise<string> {
  return withDbErrors(async () => {
    const r = await trx.raw("SELECT last_id::text FROM retention_cursors WHERE name = 'copies' FOR UPDATE");
    return rowsOf<{ last_id: string }>(r)[0]?.last_id ?? "0";
  });
}

/** Up to `limit` executions the trimmer passed unfinished that have now been finished since before `horizon`. */
export function finishedWaiting(trx: Knex, horizon: Date, limit: number): Promise<WalkedExecution[]> {
  return withDbErrors(async () =>
    rowsOf<WalkedExecution>(
      await trx.raw(
        `SELECT ${walked("e")} FROM retention_waiting w JOIN executions e ON e.id = w.execution_id
          WHERE e.phase = ANY(?) AND e.updated_at < ? LIMIT ?`,
        [[...TERMINAL_PHASES], horizon, limit],
      ),
    ),
  );
}

/** Moves the trimmer's cursor; adds the executions it passed unfinished to its waiting list, drops the trimmed. */
export function saveCopiesProgress(
  trx: Knex,
  lastId: string,
  waiting: readonly string[],
  trimmed: readonly string[],
): Promise<void> {
  return withDbErrors(async () => {
    await trx.raw(
      `WITH cursor AS (UPDATE retention_cursors SET last_id = ? WHERE name = 'copies'),
        waits AS (INSERT INTO retention_waiting (execution_id) SELECT unnest(?::bigint[]) ON CONFLICT DO NOTHING)
       DELETE FROM retention_waiting WHERE execution_id = ANY(?::bigint[])`,
      [lastId, [...waiting], [...trimmed]],
    );
  });
}

/**
 * The URIs of data_blobs rows under each directory of a `dirs` array (bound as `?`): `d.dir/…`. One index range scan
 * per directory (LATERAL … OFFSET 0): as a join, Postgres guessed thousands of rows per range and scanned the table.
 */
const URIS_UNDER_DIRS = `SELECT b.uri FROM unnest(?::text[]) AS d(dir)
  CROSS JOIN LATERAL (SELECT uri FROM data_blobs WHERE uri >= d.dir || '/' AND uri < d.dir || '0' OFFSET 0) b`;

/** Of `dirs`, those under which a blob's store copy is still to be written (a blob outbox entry). */
export function dirsWithPendingBlobs(trx: Knex, dirs: readonly string[]): Promise<Set<string>> {
  if (dirs.length === 0) return Promise.resolve(new Set());
  return withDbErrors(async () => {
    const r = await trx.raw(
      `SELECT d.dir FROM unnest(?::text[]) AS d(dir)
        WHERE EXISTS (SELECT 1 FROM blob_outbox o WHERE o.uri >= d.dir || '/' AND o.uri < d.dir || '0')`,
      [[...dirs]],
    );
    return new Set(rowsOf<{ dir: string }>(r).map((x) => x.dir));
  });
}

/**
 * Drops the database copies of blobs under `dirs` whose store copies are written (no blob outbox entry): reads fall
 * back to the store. Returns how many it dropped.
 */
export function dropCopiesUnder(trx: Knex, dirs: readonly string[]): Promise<number> {
  if (dirs.length === 0) return Promise.resolve(0);
  return withDbErrors(async () => {
    const r = await trx.raw(
      `DELETE FROM data_blobs WHERE uri = ANY(ARRAY(
         ${URIS_UNDER_DIRS} WHERE NOT EXISTS (SELECT 1 FROM blob_outbox o WHERE o.uri = b.uri OFFSET 0)))`,
      [[...dirs]],
    );
    return (r as { rowCount: number }).rowCount;
  });
}

/**
 * Of `ids`, the executions retention may delete now, locked (rows another transaction holds are skipped): finished
 * before `cutoff`, not a child of an execution that is kept (children go with their parent), and not the source of
 * an unfinished recovery (which reads its node executions; a lookup per row, OFFSET 0 keeps it one).
 */
export function lockDeletableRoots(trx: Knex, ids: readonly string[], cutoff: Date): Promise<string[]> {
  return withDbErrors(async () => {
    const r = await trx.raw(
      `SELECT e.id::text FROM executions e
        WHERE e.id = ANY(?::bigint[]) AND e.phase = ANY(?) AND e.updated_at < ?
          AND (e.parent_node_execution_id IS NULL
               OR NOT EXISTS (SELECT 1 FROM node_executions n WHERE n.id = e.parent_node_execution_id))
          AND NOT EXISTS (SELECT 1 FROM executions r
                           WHERE r.source_execution_id = e.id AND r.source_execution_id IS NOT NULL
                             AND r.phase <> ALL(?) OFFSET 0)
        ORDER BY e.id FOR UPDATE OF e SKIP LOCKED`,
      [[...ids], [...TERMINAL_PHASES], cutoff, [...TERMINAL_PHASES]],
    );
    return rowsOf<{ id: string }>(r).map((x) => x.id);
  });
}

export interface TreeMember {
  /** The root execution it is deleted with. */
  readonly root: string;
  readonly id: string;
  readonly phase: string;
  readonly execution_project: string;
  readonly execution_domain: string;
  readonly execution_name: string;
  readonly spec: Buffer;
  /** Whether this transaction holds its row lock (roots always; descendants when nobody else held them). */
  readonly locked: boolean;
}

/**
 * The roots and all their descendants (child executions of their nodes, recursively), descendants locked if free. Each
 * step is an index lookup per row (LATERAL … OFFSET 0), whatever the statistics say: never a scan of every child.
 */
export function executionTrees(trx: Knex, roots: readonly string[]): Promise<TreeMember[]> {
  return withDbErrors(async () => {
    const r = await trx.raw(
      `WITH RECURSIVE tree(root, id) AS (
         SELECT x, x FROM unnest(?::bigint[]) AS x
         UNION ALL
         SELECT t.root, c.id FROM tree t
           CROSS JOIN LATERAL (SELECT n.id FROM node_executions n WHERE n.execution_id = t.id OFFSET 0) n
           CROSS JOIN LATERAL (SELECT c.id FROM executions c
                                WHERE c.parent_node_execution_id = n.id AND c.parent_node_execution_id IS NOT NULL
                               OFFSET 0) c),
       free AS (SELECT e.id FROM executions e WHERE e.id IN (SELECT id FROM tree WHERE id <> root)
                 FOR UPDATE SKIP LOCKED)
       SELECT t.root::text, e.id::text, e.phase, e.execution_project, e.execution_domain, e.execution_name, e.spec,
              (t.id = t.root OR t.id IN (SELECT id FROM free)) AS locked
         FROM tree t JOIN executions e ON e.id = t.id`,
      [[...roots]],
    );
    return rowsOf<TreeMember>(r);
  });
}

/** Every task attempt of the executions: the node it ran for and its retry number. */
export function attemptsOf(
  trx: Knex,
  ids: readonly string[],
): Promise<{ execution_id: string; node_id: string; retry_attempt: number }[]> {
  return withDbErrors(async () =>
    rowsOf(
      await trx.raw(
        `SELECT n.execution_id::text, n.node_id, t.retry_attempt
           FROM node_executions n JOIN task_executions t ON t.node_execution_id = n.id
          WHERE n.execution_id = ANY(?::bigint[])`,
        [[...ids]],
      ),
    ),
  );
}

/** Of `names`, those another execution than `ids` also has (in another project or domain). */
export function namesKeptElsewhere(trx: Knex, names: readonly string[], ids: readonly string[]) {
  return withDbErrors(async () => {
    const r = await trx.raw(
      "SELECT DISTINCT execution_name FROM executions WHERE execution_name = ANY(?) AND id <> ALL(?::bigint[])",
      [[...names], [...ids]],
    );
    return new Set(rowsOf<{ execution_name: string }>(r).map((x) => x.execution_name));
  });
}

export interface Doomed {
  readonly ids: readonly string[];
  /** Their (project, domain, name) keys, as three parallel arrays. */
  readonly keys: { readonly projects: string[]; readonly domains: string[]; readonly names: string[] };
  /** Their metadata directories, whose database copies go too. */
  readonly dirs: readonly string[];
  /** Execution names whose cached task outputs go (outputs that may point at blobs being deleted). */
  readonly cacheSources: readonly string[];
}

/**
 * Deletes executions with their rows: node and task executions, tags, work items (foreign keys), signals, database
 * copies of their blobs, and cached outputs they produced. Returns how many executions it deleted.
 */
export function deleteExecutions(trx: Knex, d: Doomed): Promise<number> {
  return withDbErrors(async () => {
    const r = await trx.raw(
      `WITH gone AS (DELETE FROM executions WHERE id = ANY(?::bigint[]) RETURNING id),
        sigs AS (DELETE FROM signals s USING unnest(?::text[], ?::text[], ?::text[]) AS k(p, d, n)
                  WHERE s.execution_project = k.p AND s.execution_domain = k.d AND s.execution_name = k.n),
        copies AS (DELETE FROM data_blobs WHERE uri = ANY(ARRAY(${URIS_UNDER_DIRS}))),
        cache AS (DELETE FROM task_cache WHERE source_execution = ANY(?))
       SELECT count(*)::int AS n FROM gone`,
      [[...d.ids], d.keys.projects, d.keys.domains, d.keys.names, [...d.dirs], [...d.cacheSources]],
    );
    return rowsOf<{ n: number }>(r)[0]?.n ?? 0;
  });
}
