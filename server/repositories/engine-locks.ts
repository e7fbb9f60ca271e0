// The engine's locking reads: executions locked in id order (with their small input blobs), and their node rows,
// each in a shape whose plan does not depend on statistics.
import type { Knex } from "knex";
import pg from "pg";
import type { ExecutionRow } from "./execution-repo.js";
import type { NodeExecutionRow } from "./node-execution-repo.js";
import { withDbErrors } from "./pg-errors.js";
import { prepared } from "./prepared.js";
import type { TaskExecutionRow } from "./task-execution-repo.js";

type LockedRow = ExecutionRow & { prefetched_inputs: Buffer | null };

/**
 * The node rows of the executions in `ids` (an array expression), in id order: one index lookup per execution
 * (a LATERAL subquery, which OFFSET 0 keeps from becoming a join). As `execution_id IN (…)`, the plan depended on
 * statistics: without them each id looks like 1/200 of the table, so a few dozen ids read all of node_executions.
 */
const nodesOfSql = (ids: string) =>
  `SELECT n.* FROM (SELECT DISTINCT id FROM unnest(${ids}) AS id) w
     CROSS JOIN LATERAL (SELECT * FROM node_executions WHERE execution_id = w.id OFFSET 0) n
    ORDER BY n.id`;

/** Row ids come from the database (bigint); they are inlined only after this check. */
function idList(ids: readonly string[]): string {
  for (const id of ids) if (!/^\d+$/.test(id)) throw new Error(`invalid row id [${id}]`);
  return ids.join(", ");
}

const lockSql = (ids: string, maxInputBytes: number) =>
  `SELECT e.*, CASE WHEN octet_length(b.data) <= ${Math.floor(maxInputBytes)} THEN b.data END AS prefetched_inputs
     FROM executions e LEFT JOIN data_blobs b ON b.uri = e.inputs_uri
    WHERE e.id IN (${ids}) ORDER BY e.id FOR UPDATE OF e`;

const locked = (rows: LockedRow[]) =>
  rows.map(({ prefetched_inputs, ...row }) => ({ row, inputs: prefetched_inputs ?? undefined }));

/** A work item to complete (delete) in the locking round trip, if it is still leased to `owner`. */
export interface Completion {
  readonly itemId: string;
  readonly owner: string;
}

const completionSql = (c: Completion) =>
  `DELETE FROM work_items WHERE id = ${idList([c.itemId])} AND leased_by = ${pg.escapeLiteral(c.owner)} RETURNING id`;

/** A node whose task attempts to read in the locking round trip. */
export interface AttemptsOf {
  readonly executionId: string;
  readonly nodeId: string;
}

const attemptsSql = (a: AttemptsOf) =>
  `SELECT t.* FROM node_executions n CROSS JOIN LATERAL (
     SELECT * FROM task_executions WHERE node_execution_id = n.id OFFSET 0) t
    WHERE n.execution_id = ${idList([a.executionId])} AND n.node_id = ${pg.escapeLiteral(a.nodeId)}
    ORDER BY t.id`;

export interface Locked {
  readonly locked: { row: ExecutionRow; inputs: Buffer | undefined }[];
  /** With `withNodes`: the executions' node rows, in id (creation) order. */
  readonly nodes: NodeExecutionRow[] | undefined;
  /** With a completion: whether its work item was still leased to its owner (and is now deleted). */
  readonly completed: boolean | undefined;
  /** With `attemptsOf`: that node's task attempts, in id (creation) order. */
  readonly attempts: TaskExecutionRow[] | undefined;
}

/**
 * Locks the executions (in id order, so concurrent lockers cannot deadlock on them) and reads each one's inputs blob
 * when it is at most `maxInputBytes` (immutable, so safe to read in the locking statement). In the same round trip
 * (statements in one simple-protocol message, ids inlined), after the locks are held: `withNodes`, their node rows
 * (a statement that waited for a lock keeps its older snapshot for every other table, the next one does not); a
 * completion, its work item deleted; `attemptsOf`, a node's task attempts.
 */
export function lockExecutions(
  db: Knex,
  ids: readonly string[],
  maxInputBytes: number,
  opts: {
    readonly withNodes?: boolean;
    readonly complete?: Completion;
    readonly attemptsOf?: AttemptsOf;
  } = {},
): Promise<Locked> {
  return withDbErrors(async () => {
    const list = idList(ids);
    const statements = [lockSql(list, maxInputBytes)];
    const at = (sql: string | undefined) => (sql === undefined ? -1 : statements.push(sql) - 1);
    const nodes = at(opts.withNodes === true ? nodesOfSql(`ARRAY[${list}]::bigint[]`) : undefined);
    const completion = at(opts.complete === undefined ? undefined : completionSql(opts.complete));
    const attempts = at(opts.attemptsOf === undefined ? undefined : attemptsSql(opts.attemptsOf));
    const r = (await db.raw(statements.join(";\n"))) as { rows: unknown[] } | { rows: unknown[] }[];
    const results = Array.isArray(r) ? r : [r];
    const rows = (i: number) => (i < 0 ? undefined : (results[i]?.rows ?? []));
    return {
      locked: locked(results[0]?.rows as LockedRow[]),
      nodes: rows(nodes) as NodeExecutionRow[] | undefined,
      completed: completion < 0 ? undefined : (rows(completion)?.length ?? 0) > 0,
      attempts: rows(attempts) as TaskExecutionRow[] | undefined,
    };
  });
}

/** The node rows of several executions, in id (creation) order. */
export function nodeRowsOf(db: Knex, executionIds: readonly string[]): Promise<NodeExecutionRow[]> {
  return withDbErrors(
    async () =>
      ((await prepared(db, nodesOfSql("?::bigint[]"), [[...executionIds]])) as { rows: NodeExecutionRow[] })
        .rows,
  );
}
