// The engine's locking reads: executions locked in id order (with their small input blobs), and their node rows,
// each in a shape whose plan does not depend on statistics.
import type { Knex } from "knex";
import pg from "pg";
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

/** A work item to complete (delete) in the locking round trip, if it is still leased to `owner`. */
export interface Completion {
  readonly itemId: string;
  readonly owner: string;
}

const completionSql = (c: Completion) =>
  `DELETE FROM work_items WHERE id = ${idList([c.itemId])} AND leased_by = ${pg.escapeLiteral(c.owner)} RETURNING id`;

export interface Locked {
  readonly locked: { row: ExecutionRow; inputs: Buffer | undefined }[];
  /** With `withNodes`: the executions' node rows, in id (creation) order. */
  readonly nodes: NodeExecutionRow[] | undefined;
  /** With a completion: whether its work item was still leased to its owner (and is now deleted). */
  readonly completed: boolean | undefined;
}

/**
 * Locks the executions (in id order, so concurrent lockers cannot deadlock on them) and reads each one's inputs blob
 * when it is at most `maxInputBytes` (immutable, so safe to read in the locking statement). In the same round trip
 * (statements in one simple-protocol message, ids inlined), after the locks are held: `withNodes`, their node rows
 * (a statement that waited for a lock keeps its older snapshot for every other table, the next one does not); a
 * completion, its work item deleted.
 */
export function lockExecutions(
  db: Knex,
  ids: readonly string[],
  maxInputBytes: number,
  opts: { readonly withNodes?: boolean; readonly complete?: Completion } = {},
): Promise<Locked> {
  return withDbErrors(async () => {
    const list = idList(ids);
    const statements = [lockSql(list, maxInputBytes)];
    if (opts.withNodes === true) statements.push(nodesOfSql(`ARRAY[${list}]::bigint[]`));
    if (opts.complete !== undefined) statements.push(completionSql(opts.complete));
    const r = (await db.raw(statements.join(";\n"))) as { rows: unknown[] } | { rows: unknown[] }[];
    const results = Array.isArray(r) ? r : [r];
    return {
      locked: locked(results[0]?.rows as LockedRow[]),
      nodes: opts.withNodes === true ? (results[1]?.rows as NodeExecutionRow[]) : undefined,
      completed: opts.complete === undefined ? undefined : (results.at(-1)?.rows.length ?? 0) > 0,
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
