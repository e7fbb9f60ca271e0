// Executions with all their node executions and task attempts, read in one statement (one snapshot): what watch
// streams compare with what they already sent. One statement serves many executions, asked for by id or by key.
// Child rows travel as JSON arrays (bigint ids as text, bytea as hex, timestamps as ISO text) and are turned back
// into the row types the other repositories return.
import type { Knex } from "knex";
import type { Filter } from "../validation/filter-grammar.js";
import { EXECUTION_LIST, type ExecutionKey, type ExecutionRow } from "./execution-repo.js";
import { applyFilters } from "./list-filters.js";
import type { NodeExecutionRow } from "./node-execution-repo.js";
import { withDbErrors } from "./pg-errors.js";
import { prepared } from "./prepared.js";
import type { TaskExecutionRow } from "./task-execution-repo.js";

export interface ExecutionState {
  readonly exec: ExecutionRow;
  /** In creation (id) order. */
  readonly nodes: NodeExecutionRow[];
  /** In creation (id) order. */
  readonly tasks: TaskExecutionRow[];
}

// Every table here grows without bound, and the statement runs for each change a watch stream sees, so its plan must
// not depend on statistics (a fresh database has none until autovacuum analyzes it; without them Postgres takes a
// column to have 200 distinct values, and once chose to hash-join all of task_executions for every execution read).
// So each step is a lookup by one key that an index serves, in shapes the planner cannot turn into a join:
// - the wanted executions: the ids asked for, plus the id of each key asked for (found by name, which the execution
//   key leads with: project and domain are compared as a row, which no index serves, so no (project, domain, …) index
//   reads a whole project instead), each then read by primary key in a LATERAL subquery (OFFSET 0 keeps it one);
// - per execution, its node rows (node_executions_list_idx), and per node row its task attempts
//   (task_executions_list_idx), again each in a LATERAL subquery;
// - the ids and keys come from functions the planner takes to return one row (migration 0019), so that the plan is
//   made once per connection: with unnest, every call was planned again, at more cost than running it.
const STATE_SQL = `
  WITH wanted AS (
    SELECT w.id FROM petrel_ids(?::bigint[]) AS w(id)
    UNION
    SELECT (SELECT x.id FROM executions x
             WHERE x.execution_name = k.name
               AND (x.execution_project, x.execution_domain) IS NOT DISTINCT FROM (k.project, k.domain))
      FROM petrel_execution_keys(?::text[], ?::text[], ?::text[]) AS k)
  SELECT e.*,
    (SELECT coalesce(jsonb_agg(to_jsonb(n) || jsonb_build_object(
              'id', n.id::text, 'execution_id', n.execution_id::text, 'parent_id', n.parent_id::text,
              'parent_task_execution_id', n.parent_task_execution_id::text) ORDER BY n.id), '[]')
       FROM node_executions n WHERE n.execution_id = e.id) AS node_rows,
    (SELECT coalesce(jsonb_agg(a.row ORDER BY a.id), '[]')
       FROM node_executions n CROSS JOIN LATERAL (
         SELECT t.id, to_jsonb(t) || jsonb_build_object(
                  'id', t.id::text, 'node_execution_id', t.node_execution_id::text) AS row
           FROM task_executions t WHERE t.node_execution_id = n.id OFFSET 0) a
      WHERE n.execution_id = e.id) AS task_rows
  FROM wanted CROSS JOIN LATERAL (SELECT * FROM executions x WHERE x.id = wanted.id OFFSET 0) e`;

const NODE_BYTES = ["closure", "metadata"] as const;
const NODE_DATES = [
  "started_at",
  "node_execution_created_at",
  "node_execution_updated_at",
  "created_at",
  "updated_at",
] as const;
const TASK_BYTES = ["closure"] as const;
const TASK_DATES = [
  "started_at",
  "task_execution_created_at",
  "task_execution_updated_at",
  "created_at",
  "updated_at",
] as const;

/** A row from its JSON form: `\x…` hex strings become Buffers and ISO timestamps Dates (nulls stay null). */
function fromJson<T>(o: Record<string, unknown>, bytes: readonly string[], dates: readonly string[]): T {
  for (const k of bytes) {
    const v = o[k];
    if (typeof v === "string") o[k] = Buffer.from(v.slice(2), "hex");
  }
  for (const k of dates) {
    const v = o[k];
    if (typeof v === "string") o[k] = new Date(v);
  }
  return o as T;
}

type StateRow = ExecutionRow & { node_rows: Record<string, unknown>[]; task_rows: Record<string, unknown>[] };

/**
 * The states of the executions with these ids and these keys, in one statement; those that do not exist are
 * missing from the result (in no particular order).
 */
export function loadExecutionStates(
  db: Knex,
  ids: readonly string[],
  keys: readonly ExecutionKey[],
): Promise<ExecutionState[]> {
  const bindings = [[...ids], keys.map((k) => k.project), keys.map((k) => k.domain), keys.map((k) => k.name)];
  return withDbErrors(async () => {
    const r = (await prepared(db, STATE_SQL, bindings)) as { rows: StateRow[] };
    return r.rows.map(({ node_rows, task_rows, ...exec }) => ({
      exec,
      nodes: node_rows.map((n) => fromJson<NodeExecutionRow>(n, NODE_BYTES, NODE_DATES)),
      tasks: task_rows.map((t) => fromJson<TaskExecutionRow>(t, TASK_BYTES, TASK_DATES)),
    }));
  });
}

/**
 * The executions with these ids in this project/domain that pass `filters` (ListExecutions' grammar), one statement.
 * Each is read by primary key first (a LATERAL subquery per id) and only then checked, so neither a filter nor the
 * project/domain can lead the planner to an index that reads the whole project.
 */
export function findExecutionsIn(
  db: Knex,
  scope: { readonly project: string; readonly domain: string },
  filters: readonly Filter[],
  ids: readonly string[],
): Promise<ExecutionRow[]> {
  return withDbErrors(async () => {
    const qb = db
      .select("e.*")
      .from(db.raw("(SELECT DISTINCT id FROM unnest(?::bigint[]) AS id) AS w", [[...ids]]))
      .crossJoin(db.raw("LATERAL (SELECT * FROM executions x WHERE x.id = w.id OFFSET 0) e"))
      .where({ "e.execution_project": scope.project, "e.execution_domain": scope.domain });
    applyFilters(qb, filters, EXECUTION_LIST);
    return (await qb) as ExecutionRow[];
  });
}
