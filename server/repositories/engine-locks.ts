// The engine's locking reads: executions locked in id order (with their small input blobs), and their node rows,
// each in a shape whose plan does not depend on statistics.
import type { Knex } from "knex";
import type { ExecutionRow } from "./execution-repo.js";
import type { NodeExecutionRow } from "./node-execution-repo.js";
import { withDbErrors } from "./pg-errors.js";
import { prepared } from "./prepared.js";

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

/**
 * Locks the executions (in id order, so concurrent lockers cannot deadlock on them) and reads each one's inputs blob
 * when it is at most `maxInputBytes` (immutable, so safe to read in the locking statement).
 */
export function lockExecutions(
  db: Knex,
  ids: readonly string[],
  maxInputBytes: number,
): Promise<{ row: ExecutionRow; inputs: Buffer | undefined }[]> {
  return withDbErrors(async () => {
    const r = (await db.raw(lockSql(idList(ids), maxInputBytes))) as { rows: LockedRow[] };
    return locked(r.rows);
  });
}

/**
 * lockExecutions, then the executions' node rows in id (creation) order, in one round trip: two statements in one
 * simple-protocol message (ids inlined). The node rows are read by the second statement, after the locks are held:
 * a statement that waited for a lock keeps its older snapshot for every other table, the next one does not.
 */
export function lockExecutionsWithNodes(
  db: Knex,
  ids: readonly string[],
  maxInputBytes: number,
): Promise<{ locked: { row: ExecutionRow; inputs: Buffer | undefined }[]; nodes: NodeExecutionRow[] }> {
  return withDbErrors(async () => {
    const list = idList(ids);
    const r = (await db.raw(
      `${lockSql(list, maxInputBytes)};
       ${nodesOfSql(`ARRAY[${list}]::bigint[]`)}`,
    )) as [{ rows: LockedRow[] }, { rows: NodeExecutionRow[] }];
    return { locked: locked(r[0].rows), nodes: r[1].rows };
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
