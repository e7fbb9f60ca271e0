// The engine's writes for one transaction over many executions, in a single statement (its locking reads are in
// engine-locks.ts): everything the transaction decided — blobs, execution rows, node and task executions (a new
// attempt finds its new node's id in the same statement), finished work items removed, task attempts' work items
// leased to the engine, watchers notified. Rows travel as one array per column (`unnest`), so a statement's bind
// parameters do not grow with its row count.
import type { Knex } from "knex";
import type { BlobWrite } from "./data-store.js";
import type { ExecutionRow } from "./execution-repo.js";
import { type TypedColumns, unnestTable } from "./multi-row.js";
import type { NodeExecutionRow } from "./node-execution-repo.js";
import { NODE_MUTABLE } from "./node-execution-repo.js";
import { insertOutboxSql, type OutboxInsert } from "./outbox-repo.js";
import { withDbErrors } from "./pg-errors.js";
import { prepared } from "./prepared.js";
import { TASK_MUTABLE, type TaskExecutionRow } from "./task-execution-repo.js";
import type { WorkItemRow } from "./work-repo.js";

/** The execution columns workflow events change. */
export const EXECUTION_EVENT_COLUMNS: TypedColumns<ExecutionRow> = [
  ["phase", "text"],
  ["closure", "bytea"],
  ["started_at", "timestamptz"],
  ["execution_updated_at", "timestamptz"],
  ["duration", "float8"],
  ["error_kind", "text"],
  ["error_code", "text"],
];

const NODE_INSERT: TypedColumns<NodeExecutionRow> = [
  ["execution_id", "bigint"],
  ["node_id", "text"],
  ["parent_id", "bigint"],
  ["parent_task_execution_id", "bigint"],
  ["node_execution_created_at", "timestamptz"],
  ...NODE_MUTABLE,
];

/** A new attempt: its node row may be new too (`node_execution_id` "" until written), so it names the node. */
export type TaskInsert = Omit<TaskExecutionRow, "id" | "created_at" | "updated_at"> & {
  readonly execution_id: string;
  readonly node_id: string;
};

const TASK_INSERT: TypedColumns<TaskInsert> = [
  ["execution_id", "bigint"],
  ["node_id", "text"],
  ["node_execution_id", "bigint"],
  ["project", "text"],
  ["domain", "text"],
  ["name", "text"],
  ["version", "text"],
  ["retry_attempt", "int"],
  ["task_execution_created_at", "timestamptz"],
  ...(TASK_MUTABLE as TypedColumns<TaskInsert>),
];

export interface EngineWrites {
  /** Database copies of blobs; each is also entered in the blob outbox (its store copy is written after commit). */
  readonly blobs: readonly BlobWrite[];
  /** Full rows; their EXECUTION_EVENT_COLUMNS are written. */
  readonly executions: readonly ExecutionRow[];
  readonly nodeInserts: readonly NodeExecutionRow[];
  readonly nodeUpdates: readonly NodeExecutionRow[];
  readonly taskInserts: readonly TaskInsert[];
  readonly taskUpdates: readonly TaskExecutionRow[];
  /** Work items to remove (when still leased by `owner`). */
  readonly completed?: { readonly ids: readonly string[]; readonly owner: string };
  /** Work items of task attempts to write leased to `owner` (the engine runs them once the transaction commits). */
  readonly leased?: {
    readonly owner: string;
    readonly leaseMs: number;
    readonly attempts: readonly LeasedTask[];
  };
  /** `pg_notify(channel, payload)` for each payload, delivered at commit. */
  readonly notify?: { readonly channel: string; readonly payloads: readonly string[] };
  /** Messages for the outbox (notifications, event-sink CloudEvents), in delivery order. */
  readonly messages?: readonly OutboxInsert[];
  /** The transaction's last statement: its COMMIT is sent with it (nothing may fail after it). */
  readonly last?: boolean;
}

export interface WrittenIds {
  /** Ids of inserted node rows, by `<execution id>/<node id>`. */
  readonly nodes: Map<string, string>;
  /** Ids of inserted attempts, by `<node row id>/<attempt key>` (see attemptKey). */
  readonly tasks: Map<string, string>;
  /** Ids of the leased work items written, by leasedKey. */
  readonly leased: Map<string, string>;
}

export type LeasedTask = Pick<WorkItemRow, "execution_id" | "node_id" | "attempt">;
export const leasedKey = (t: LeasedTask) => JSON.stringify([t.execution_id, t.node_id, t.attempt]);

export const attemptKey = (
  t: Pick<
    TaskExecutionRow,
    "node_execution_id" | "project" | "domain" | "name" | "version" | "retry_attempt"
  >,
) => `${t.node_execution_id}/${t.project}/${t.domain}/${t.name}/${t.version}/${t.retry_attempt}`;

class Statement {
  readonly ctes: string[] = [];
  readonly bindings: unknown[] = [];

  /** The rows as an `unnest` table (see unnestTable), its arrays added to the bindings. */
  table<R>(alias: string, columns: TypedColumns<R>, rows: readonly R[]): string {
    const t = unnestTable(alias, columns, rows);
    this.bindings.push(...t.bindings);
    return t.sql;
  }

  /** `SET c = v.c, …` for an update from a `v` table. */
  static set<R>(columns: TypedColumns<R>): string {
    return columns.map(([c]) => `${c} = v.${c}`).join(", ");
  }
}

/** Everything in `w`, in one statement; returns the ids of the inserted rows. */
export function writeEngineBatch(db: Knex, w: EngineWrites): Promise<WrittenIds> {
  const s = new Statement();
  if (w.blobs.length > 0) {
    const blobs = new Map(w.blobs.map((b) => [b.uri, Buffer.from(b.data)]));
    const rows = [...blobs].map(([uri, data]) => ({ uri, data }));
    s.ctes.push(
      `blobs AS (INSERT INTO data_blobs (uri, data) SELECT v.uri, v.data FROM ${s.table(
        "v",
        [
          ["uri", "text"],
          ["data", "bytea"],
        ],
        rows,
      )} ON CONFLICT (uri) DO UPDATE SET data = EXCLUDED.data)`,
    );
    s.ctes.push(
      `outbox AS (INSERT INTO blob_outbox (uri) SELECT DISTINCT u FROM unnest(?::text[]) AS u
         ON CONFLICT (uri) DO NOTHING)`,
    );
    s.bindings.push([...blobs.keys()]);
  }
  if (w.executions.length > 0) {
    const cols: TypedColumns<ExecutionRow> = [["id", "bigint"], ...EXECUTION_EVENT_COLUMNS];
    s.ctes.push(`execs AS (UPDATE executions r SET ${Statement.set(EXECUTION_EVENT_COLUMNS)}, updated_at = now()
      FROM ${s.table("v", cols, w.executions)} WHERE r.id = v.id)`);
  }
  const nodeCols = NODE_INSERT.map(([c]) => c).join(", ");
  s.ctes.push(
    w.nodeInserts.length > 0
      ? `nins AS (INSERT INTO node_executions (${nodeCols})
          SELECT ${nodeCols} FROM ${s.table("v", NODE_INSERT, w.nodeInserts)} RETURNING id, execution_id, node_id)`
      : "nins AS (SELECT NULL::bigint AS id, NULL::bigint AS execution_id, NULL::text AS node_id WHERE false)",
  );
  if (w.nodeUpdates.length > 0) {
    const cols: TypedColumns<NodeExecutionRow> = [["id", "bigint"], ...NODE_MUTABLE];
    s.ctes.push(`nupd AS (UPDATE node_executions r SET ${Statement.set(NODE_MUTABLE)}, updated_at = now()
      FROM ${s.table("v", cols, w.nodeUpdates)} WHERE r.id = v.id)`);
  }
  const taskCols = TASK_INSERT.slice(2).map(([c]) => c);
  const tins = w.taskInserts.length > 0;
  if (tins) {
    const rows = w.taskInserts.map((t) => ({
      ...t,
      node_execution_id: t.node_execution_id === "" ? null : t.node_execution_id,
    }));
    s.ctes.push(`tins AS (INSERT INTO task_executions (${taskCols.join(", ")})
      SELECT coalesce(v.node_execution_id, n.id), ${taskCols
        .slice(1)
        .map((c) => `v.${c}`)
        .join(", ")}
        FROM ${s.table("v", TASK_INSERT, rows as unknown as TaskInsert[])}
        LEFT JOIN nins n ON n.execution_id = v.execution_id AND n.node_id = v.node_id
      RETURNING id, node_execution_id, project, domain, name, version, retry_attempt)`);
  }
  if (w.taskUpdates.length > 0) {
    const cols: TypedColumns<TaskExecutionRow> = [["id", "bigint"], ...TASK_MUTABLE];
    s.ctes.push(`tupd AS (UPDATE task_executions r SET ${Statement.set(TASK_MUTABLE)}, updated_at = now()
      FROM ${s.table("v", cols, w.taskUpdates)} WHERE r.id = v.id)`);
  }
  if (w.completed !== undefined && w.completed.ids.length > 0) {
    s.ctes.push("done AS (DELETE FROM work_items WHERE id = ANY(?::bigint[]) AND leased_by = ?)");
    s.bindings.push([...w.completed.ids], w.completed.owner);
  }
  const l = w.leased;
  const leased = l !== undefined && l.attempts.length > 0;
  if (leased) {
    s.ctes.push(`leased AS (INSERT INTO work_items (execution_id, kind, node_id, attempt, leased_by, lease_until)
      SELECT v.e, 'run_task', v.n, v.a, ?, now() + (?::text || ' milliseconds')::interval
        FROM unnest(?::bigint[], ?::text[], ?::int[]) AS v(e, n, a)
      RETURNING id, execution_id, node_id, attempt)`);
    s.bindings.push(
      l.owner,
      String(l.leaseMs),
      l.attempts.map((a) => a.execution_id),
      l.attempts.map((a) => a.node_id),
      l.attempts.map((a) => a.attempt),
    );
  }
  if (w.messages !== undefined && w.messages.length > 0) {
    const insert = insertOutboxSql(w.messages);
    s.ctes.push(`msgs AS (${insert.sql})`);
    s.bindings.push(...insert.bindings);
  }
  const notify = w.notify !== undefined && w.notify.payloads.length > 0;
  if (notify) {
    s.ctes.push("notified AS (SELECT count(pg_notify(?, p)) AS n FROM unnest(?::text[]) AS p)");
    s.bindings.push(w.notify?.channel, [...new Set(w.notify?.payloads)]);
  }
  const selects = [
    "SELECT 'n' AS k, id::text AS id, execution_id::text AS a, node_id AS b, NULL AS c, NULL AS d, NULL AS e, NULL::int AS f FROM nins",
    ...(tins
      ? [
          "SELECT 't', id::text, node_execution_id::text, project, domain, name, version, retry_attempt FROM tins",
        ]
      : []),
    ...(notify ? ["SELECT 'x', NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM notified"] : []),
    ...(leased
      ? ["SELECT 'w', id::text, execution_id::text, node_id, NULL, NULL, NULL, attempt FROM leased"]
      : []),
  ];
  const sql = `WITH ${s.ctes.join(",\n")}\n${selects.join("\nUNION ALL ")}`;
  return withDbErrors(async () => {
    const r = (await prepared(db, sql, s.bindings, w.last)) as {
      rows: { k: string; id: string; a: string; b: string; c: string; d: string; e: string; f: number }[];
    };
    const nodes = new Map<string, string>();
    const tasks = new Map<string, string>();
    const leasedIds = new Map<string, string>();
    for (const row of r.rows) {
      if (row.k === "w")
        leasedIds.set(leasedKey({ execution_id: row.a, node_id: row.b, attempt: row.f }), row.id);
      if (row.k === "n") nodes.set(`${row.a}/${row.b}`, row.id);
      if (row.k === "t")
        tasks.set(
          attemptKey({
            node_execution_id: row.a,
            project: row.b,
            domain: row.c,
            name: row.d,
            version: row.e,
            retry_attempt: row.f,
          }),
          row.id,
        );
    }
    return { nodes, tasks, leased: leasedIds };
  });
}
