// Creating executions: many in one statement (atomic without a transaction), each row with its own checks and
// outcome. Concurrent CreateExecution calls are coalesced into one call of insertExecutions.
import type { Knex } from "knex";
import type { BlobWrite } from "./data-store.js";
import type { ExecutionRow, NewExecutionRow } from "./execution-repo.js";
import { type TypedColumns, unnestTable } from "./multi-row.js";
import { duplicateOf, withDbErrors } from "./pg-errors.js";
import { prepared } from "./prepared.js";
import { effectiveAttributesSql } from "./resource-attributes-repo.js";
import { LEASE_CTE, LEASED_VALUES, leaseBindings, WORK_CHANNEL, type WorkLease } from "./work-repo.js";

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
  /**
   * The row as written (the INSERT returns it: the engine evaluating it in the same transaction needs no read), with
   * the id of its first evaluation's work item.
   */
  | { readonly kind: "created"; readonly row: ExecutionRow; readonly workItemId: string }
  /** The project is not registered or not active. */
  | { readonly kind: "project" }
  /** The effective attributes are no longer the expected ones. */
  | { readonly kind: "attributes" }
  | { readonly kind: "exists" };

/** The error a duplicate execution name gets (as the unique violation of a single-row INSERT reads). */
export const executionExists = () => duplicateOf("executions");

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
const KEY_MATCH = (a: string, b: string) =>
  `${a}.execution_project = ${b}.execution_project AND ${a}.execution_domain = ${b}.execution_domain AND ${a}.execution_name = ${b}.execution_name`;

/** One row per execution to create: its position, its columns, and the attributes check. */
type RowIn = NewExecutionRow & {
  ord: number;
  attrs_check: boolean;
  attrs_type: number;
  attrs_workflow: string;
  attrs_expected: Buffer | null;
};
const ROW_COLUMNS: TypedColumns<RowIn> = [
  ["ord", "int"],
  ...COLUMNS.map((c) => [c, COLUMN_TYPES[c]] as const),
  ["attrs_check", "bool"],
  ["attrs_type", "int"],
  ["attrs_workflow", "text"],
  ["attrs_expected", "bytea"],
];
type KeyedIn = Pick<NewExecutionRow, "execution_project" | "execution_domain" | "execution_name">;
const KEY_COLUMNS: TypedColumns<KeyedIn> = [
  ["execution_project", "text"],
  ["execution_domain", "text"],
  ["execution_name", "text"],
];
type BlobIn = KeyedIn & { uri: string; data: Buffer };
const BLOB_COLUMNS: TypedColumns<BlobIn> = [...KEY_COLUMNS, ["uri", "text"], ["data", "bytea"]];
type TagIn = KeyedIn & { key: string; value: string };
const TAG_COLUMNS: TypedColumns<TagIn> = [...KEY_COLUMNS, ["key", "text"], ["value", "text"]];

/**
 * Creates executions, each only while its project is registered and active and (when asked) its attributes are
 * unchanged, together with its input blobs, tags and first evaluation work item, and one NOTIFY for the engine.
 * Names must be distinct within one call. Outcomes are in the order of `items`. The statement's text is the same
 * for any number of rows (arrays per column), so it is prepared once per connection.
 */
export async function insertExecutions(
  db: Knex,
  items: readonly NewExecution[],
  /** The engine the first evaluations are leased to (no NOTIFY is sent then). */
  lease?: WorkLease,
): Promise<CreateOutcome[]> {
  if (items.length === 0) return [];
  const rows: RowIn[] = items.map(({ row, attributes: a }, ord) => ({
    ...row,
    ord,
    attrs_check: a !== undefined,
    attrs_type: a?.resourceType ?? 0,
    attrs_workflow: a?.workflow ?? "",
    attrs_expected: a?.expected ?? null,
  }));
  const key = (r: NewExecutionRow): KeyedIn => ({
    execution_project: r.execution_project,
    execution_domain: r.execution_domain,
    execution_name: r.execution_name,
  });
  const blobs: BlobIn[] = items.flatMap((it) =>
    [...new Map(it.extras.blobs.map((b) => [b.uri, b.data]))].map(([uri, data]) => ({
      ...key(it.row),
      uri,
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    })),
  );
  const tags: TagIn[] = items.flatMap((it) =>
    [...it.extras.tags].map(([k, value]) => ({ ...key(it.row), key: k, value })),
  );
  const v = unnestTable("v", ROW_COLUMNS, rows);
  const b = unnestTable("b", BLOB_COLUMNS, blobs);
  const t = unnestTable("t", TAG_COLUMNS, tags);
  const result = await withDbErrors(
    async () =>
      (await prepared(db, insertSql(v.sql, b.sql, t.sql), [
        ...v.bindings,
        ...b.bindings,
        ...t.bindings,
        ...leaseBindings(lease),
      ])) as {
        rows: ResultRow[];
      },
  );
  const byOrd = new Map(result.rows.map((r) => [r._ord, r]));
  return items.map((_, ord) => outcomeOf(byOrd.get(ord)));
}

function insertSql(rows: string, blobs: string, tags: string): string {
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
        FROM ${rows}),
    exec AS (
      INSERT INTO executions (${COLUMN_LIST})
      SELECT ${COLUMN_LIST} FROM ok WHERE project_ok AND attrs_ok
       ORDER BY ord
      ON CONFLICT (execution_project, execution_domain, execution_name) DO NOTHING
      RETURNING *),
    blobs AS (
      INSERT INTO data_blobs (uri, data)
      SELECT b.uri, b.data FROM ${blobs} JOIN exec ON ${KEY_MATCH("exec", "b")}
      ON CONFLICT (uri) DO UPDATE SET data = EXCLUDED.data
      RETURNING uri),
    outbox AS (
      INSERT INTO blob_outbox (uri) SELECT uri FROM blobs ON CONFLICT (uri) DO NOTHING),
    tags AS (
      INSERT INTO execution_tags (execution_id, key, value)
      SELECT exec.id, t.key, t.value FROM ${tags} JOIN exec ON ${KEY_MATCH("exec", "t")}),
    ${LEASE_CTE},
    work AS (
      INSERT INTO work_items (execution_id, kind, run_after, leased_by, lease_until)
      SELECT exec.id, 'evaluate', clock_timestamp(), ${LEASED_VALUES}
        FROM exec, lease
      RETURNING id, execution_id)
    SELECT ok.ord AS _ord, ok.project_ok AS _project_ok, ok.attrs_ok AS _attrs_ok, work.id::text AS _work_id, exec.*,
           (SELECT pg_notify('${WORK_CHANNEL}', '') FROM lease
             WHERE lease.owner IS NULL AND EXISTS (SELECT 1 FROM exec)) AS _notified
      FROM ok LEFT JOIN exec ON ${KEY_MATCH("exec", "ok")} LEFT JOIN work ON work.execution_id = exec.id`;
}

type ResultRow = ExecutionRow & { _ord: number; _project_ok: boolean; _attrs_ok: boolean; _work_id: string };

function outcomeOf(r: ResultRow | undefined): CreateOutcome {
  if (r === undefined || !r._project_ok) return { kind: "project" };
  if (!r._attrs_ok) return { kind: "attributes" };
  if (r.id === null) return { kind: "exists" };
  const { _ord, _project_ok, _attrs_ok, _notified, _work_id, ...row } = r as ResultRow & {
    _notified: unknown;
  };
  return { kind: "created", row, workItemId: _work_id };
}
