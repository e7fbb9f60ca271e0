// Creating executions: many in one statement (atomic without a transaction), each row with its own checks and
// outcome. Concurrent CreateExecution calls are coalesced into one call of insertExecutions.
import type { Knex } from "knex";
import { alreadyExists } from "../errors.js";
import type { BlobWrite } from "./data-store.js";
import type { ExecutionRow, NewExecutionRow } from "./execution-repo.js";
import { chunked } from "./multi-row.js";
import { withDbErrors } from "./pg-errors.js";
import { effectiveAttributesSql } from "./resource-attributes-repo.js";
import { WORK_CHANNEL } from "./work-repo.js";

/** What is created with an execution row, in the same statement. */
export interface ExecutionExtras {
  readonly blobs: readonly BlobWrite[];
  readonly tags: ReadonlyMap<string, string>;
}

/**
 * The matchable attributes the row's spec was merged with: the row is written only while they are still the
 * effective ones (bytes, or null for none), so a cached read is as good as a fresh one.
 */
export interface AttributesCheck {
  readonly resourceType: number;
  readonly workflow: string;
  readonly expected: Buffer | null;
}

export interface NewExecution {
  readonly row: NewExecutionRow;
  readonly extras: ExecutionExtras;
  readonly attributes?: AttributesCheck;
}

export type CreateOutcome =
  | { readonly kind: "created"; readonly row: ExecutionRow }
  /** The project is not registered or not active. */
  | { readonly kind: "project" }
  /** The effective attributes are no longer the expected ones. */
  | { readonly kind: "attributes" }
  | { readonly kind: "exists" };

/** The error a duplicate execution name gets (as the unique violation of a single-row INSERT reads). */
export const executionExists = () =>
  alreadyExists(
    'value with matching already exists (duplicate key value violates unique constraint "executions_pkey_name")',
  );

const COLUMN_TYPES: { readonly [K in keyof NewExecutionRow]-?: string } = {
  execution_project: "text",
  execution_domain: "text",
  execution_name: "text",
  launch_plan_id: "bigint",
  workflow_id: "bigint",
  task_id: "bigint",
  phase: "text",
  spec: "bytea",
  closure: "bytea",
  mode: "int",
  source_execution_id: "bigint",
  parent_node_execution_id: "bigint",
  inputs_uri: "text",
  user_inputs_uri: "text",
  user: "text",
  launch_entity: "text",
};
const COLUMNS = Object.keys(COLUMN_TYPES) as (keyof NewExecutionRow)[];
const COLUMN_LIST = COLUMNS.map((c) => `"${c}"`).join(", ");
const ROW_TUPLE = `(?::int, ${COLUMNS.map((c) => `?::${COLUMN_TYPES[c]}`).join(", ")}, ?::bool, ?::int, ?::text, ?::bytea)`;
const KEY_MATCH = (a: string, b: string) =>
  `${a}.execution_project = ${b}.execution_project AND ${a}.execution_domain = ${b}.execution_domain AND ${a}.execution_name = ${b}.execution_name`;
const PARAMS_PER_ROW = COLUMNS.length + 5 + 2 * 5 + 8 * 5;

/**
 * Creates executions, each only while its project is registered and active and (when asked) its attributes are
 * unchanged, together with its input blobs, tags and first evaluation work item, and one NOTIFY for the engine.
 * Names must be distinct within one call. Outcomes are in the order of `items`.
 */
export function insertExecutions(db: Knex, items: readonly NewExecution[]): Promise<CreateOutcome[]> {
  if (items.length === 0) return Promise.resolve([]);
  return chunked(items, PARAMS_PER_ROW, (chunk) => insertChunk(db, chunk));
}

/** The statement for `rows` executions with `blobs` blobs and `tags` tags in all (bindings: insertChunk). */
function insertSql(rows: number, blobs: number, tags: number): string {
  const effective = effectiveAttributesSql({
    resourceType: "v.attrs_type",
    project: "v.execution_project",
    domain: "v.execution_domain",
    workflow: "v.attrs_workflow",
  });
  return `WITH ok AS MATERIALIZED (
      SELECT v.*,
             EXISTS (SELECT 1 FROM projects p WHERE p.identifier = v.execution_project AND p.state = 0) AS project_ok,
             CASE WHEN v.attrs_check THEN ${effective} IS NOT DISTINCT FROM v.attrs_expected ELSE true END AS attrs_ok
        FROM (VALUES ${Array(rows).fill(ROW_TUPLE).join(", ")})
          AS v(ord, ${COLUMN_LIST}, attrs_check, attrs_type, attrs_workflow, attrs_expected)),
    exec AS (
      INSERT INTO executions (${COLUMN_LIST})
      SELECT ${COLUMN_LIST} FROM ok WHERE project_ok AND attrs_ok
       ORDER BY ord
      ON CONFLICT (execution_project, execution_domain, execution_name) DO NOTHING
      RETURNING *)${
        blobs === 0
          ? ""
          : `,
    blobs AS (
      INSERT INTO data_blobs (uri, data)
      SELECT b.uri, b.data FROM (VALUES ${Array(blobs).fill("(?, ?, ?, ?, ?::bytea)").join(", ")})
          AS b(execution_project, execution_domain, execution_name, uri, data)
        JOIN exec ON ${KEY_MATCH("exec", "b")}
      ON CONFLICT (uri) DO UPDATE SET data = EXCLUDED.data)`
      }${
        tags === 0
          ? ""
          : `,
    tags AS (
      INSERT INTO execution_tags (execution_id, key, value)
      SELECT exec.id, t.key, t.value FROM (VALUES ${Array(tags).fill("(?, ?, ?, ?, ?)").join(", ")})
          AS t(execution_project, execution_domain, execution_name, key, value)
        JOIN exec ON ${KEY_MATCH("exec", "t")})`
      },
    work AS (INSERT INTO work_items (execution_id, kind, run_after) SELECT id, 'evaluate', clock_timestamp() FROM exec)
    SELECT ok.ord AS _ord, ok.project_ok AS _project_ok, ok.attrs_ok AS _attrs_ok, exec.*,
           (SELECT pg_notify('${WORK_CHANNEL}', '') WHERE EXISTS (SELECT 1 FROM exec)) AS _notified
      FROM ok LEFT JOIN exec ON ${KEY_MATCH("exec", "ok")}`;
}

type ResultRow = ExecutionRow & { _ord: number; _project_ok: boolean; _attrs_ok: boolean };

async function insertChunk(db: Knex, items: readonly NewExecution[]): Promise<CreateOutcome[]> {
  const bindings: Knex.RawBinding[] = [];
  for (const [ord, { row, attributes: a }] of items.entries()) {
    bindings.push(ord, ...COLUMNS.map((c) => row[c]));
    bindings.push(a !== undefined, a?.resourceType ?? 0, a?.workflow ?? "", a?.expected ?? null);
  }
  const keyed = <T>(pick: (it: NewExecution) => T[]) =>
    items.flatMap((it) => pick(it).map((v) => ({ row: it.row, v })));
  const blobs = keyed((it) => [...new Map(it.extras.blobs.map((b) => [b.uri, b.data]))]);
  const tags = keyed((it) => [...it.extras.tags]);
  const keyBindings = (r: NewExecutionRow) => [r.execution_project, r.execution_domain, r.execution_name];
  for (const { row, v } of blobs) {
    bindings.push(...keyBindings(row), v[0], Buffer.from(v[1].buffer, v[1].byteOffset, v[1].byteLength));
  }
  for (const { row, v } of tags) bindings.push(...keyBindings(row), v[0], v[1]);
  const sql = insertSql(items.length, blobs.length, tags.length);
  const result = await withDbErrors(async () => (await db.raw(sql, bindings)) as { rows: ResultRow[] });
  const byOrd = new Map(result.rows.map((r) => [r._ord, r]));
  return items.map((_, ord) => outcomeOf(byOrd.get(ord)));
}

function outcomeOf(r: ResultRow | undefined): CreateOutcome {
  if (r === undefined || !r._project_ok) return { kind: "project" };
  if (!r._attrs_ok) return { kind: "attributes" };
  if (r.id === null) return { kind: "exists" };
  const { _ord, _project_ok, _attrs_ok, _notified, ...row } = r as ResultRow & { _notified: unknown };
  return { kind: "created", row };
}
