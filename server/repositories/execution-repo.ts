// SQL for the executions table (and its tags). Creating executions: execution-create-repo.ts.
import type { Knex } from "knex";
import { listPage } from "./list-page.js";
import type { ListSpec, Page, PageRequest } from "./list-spec.js";
import { withDbErrors } from "./pg-errors.js";
import { prepared } from "./prepared.js";
import { baseColumns } from "./versioned-entity.js";

export interface ExecutionKey {
  readonly project: string;
  readonly domain: string;
  readonly name: string;
}

export interface ExecutionRow {
  id: string;
  execution_project: string;
  execution_domain: string;
  execution_name: string;
  launch_plan_id: string | null;
  workflow_id: string;
  task_id: string | null;
  phase: string;
  spec: Buffer;
  closure: Buffer;
  started_at: Date | null;
  execution_created_at: Date;
  execution_updated_at: Date;
  duration: number;
  abort_cause: string;
  mode: number;
  source_execution_id: string | null;
  parent_node_execution_id: string | null;
  cluster: string;
  inputs_uri: string;
  user_inputs_uri: string;
  error_kind: string;
  error_code: string;
  user: string;
  state: number;
  launch_entity: string;
  created_at: Date;
  updated_at: Date;
}

/** The columns an admin.Execution is made of (what ListExecutions reads). */
export const EXECUTION_ANSWER_COLUMNS = [
  "execution_project",
  "execution_domain",
  "execution_name",
  "phase",
  "spec",
  "closure",
  "started_at",
  "execution_created_at",
  "execution_updated_at",
  "duration",
  "abort_cause",
] as const satisfies readonly (keyof ExecutionRow)[];
export type ExecutionAnswerRow = Pick<ExecutionRow, (typeof EXECUTION_ANSWER_COLUMNS)[number]>;

export type NewExecutionRow = Omit<
  ExecutionRow,
  | "id"
  | "created_at"
  | "updated_at"
  | "execution_created_at"
  | "execution_updated_at"
  | "started_at"
  | "duration"
  | "abort_cause"
  | "error_kind"
  | "error_code"
  | "state"
  | "cluster"
>;

const col = (sql: string, kind?: "int" | "timestamp" | "duration" | "bytes") =>
  kind === undefined ? { sql } : { sql, kind };

export const EXECUTION_LIST: ListSpec = {
  rpcName: "ListExecutions",
  primary: "e",
  entities: {
    e: {
      id: col("e.id", "int"),
      created_at: col("e.created_at", "timestamp"),
      updated_at: col("e.updated_at", "timestamp"),
      execution_project: col("e.execution_project"),
      execution_domain: col("e.execution_domain"),
      execution_name: col("e.execution_name"),
      launch_plan_id: col("e.launch_plan_id", "int"),
      workflow_id: col("e.workflow_id", "int"),
      task_id: col("e.task_id", "int"),
      phase: col("e.phase"),
      started_at: col("e.started_at", "timestamp"),
      execution_created_at: col("e.execution_created_at", "timestamp"),
      execution_updated_at: col("e.execution_updated_at", "timestamp"),
      duration: col("e.duration", "duration"),
      abort_cause: col("e.abort_cause"),
      mode: col("e.mode", "int"),
      source_execution_id: col("e.source_execution_id", "int"),
      parent_node_execution_id: col("e.parent_node_execution_id", "int"),
      cluster: col("e.cluster"),
      inputs_uri: col("e.inputs_uri"),
      user_inputs_uri: col("e.user_inputs_uri"),
      error_kind: col("e.error_kind"),
      error_code: col("e.error_code"),
      user: col('e."user"'),
      state: col("e.state", "int"),
      launch_entity: col("e.launch_entity"),
    },
    l: baseColumns("l"),
    w: baseColumns("w"),
    t: baseColumns("t"),
    at: { name: col("at.key") },
    et: { key: col("et.key"), value: col("et.value") },
  },
  joins: {
    l: (qb) => qb.join("launch_plans as l", "l.id", "e.launch_plan_id"),
    w: (qb) => qb.join("workflows as w", "w.id", "e.workflow_id"),
    t: (qb) => qb.join("tasks as t", "t.id", "e.task_id"),
    at: (qb) => qb.join("execution_tags as at", "at.execution_id", "e.id"),
    et: (qb) => qb.join("execution_tags as et", "et.execution_id", "e.id"),
  },
  sortKeys: {
    id: { sql: "e.id", type: "bigint" },
    created_at: { sql: "e.created_at", type: "timestamptz" },
    updated_at: { sql: "e.updated_at", type: "timestamptz" },
    execution_created_at: { sql: "e.execution_created_at", type: "timestamptz" },
    execution_updated_at: { sql: "e.execution_updated_at", type: "timestamptz" },
    execution_name: { sql: "e.execution_name", type: "text" },
    phase: { sql: "e.phase", type: "text" },
    started_at: { sql: "e.started_at", type: "timestamptz", nullable: true },
    duration: { sql: "e.duration", type: "float8" },
    mode: { sql: "e.mode", type: "int" },
  },
  defaultSort: { key: "execution_created_at", direction: "desc" },
  tieBreaker: { sql: "e.id", type: "bigint" },
};

/**
 * By name (the execution key leads with it), project and domain compared as a row, which no index serves: with the
 * plain key, Postgres without statistics may choose a (project, domain, …) list index and read the whole project.
 */
const GET_EXECUTION = `SELECT * FROM executions
  WHERE execution_name = ? AND (execution_project, execution_domain) IS NOT DISTINCT FROM (?, ?) LIMIT 1`;

/** One execution by its key (a prepared statement: the read path's hottest query). */
export function getExecution(db: Knex, key: ExecutionKey): Promise<ExecutionRow | undefined> {
  return withDbErrors(async () => {
    const result = (await prepared(db, GET_EXECUTION, [key.name, key.project, key.domain])) as {
      rows: ExecutionRow[];
    };
    return result.rows[0];
  });
}

/** Several executions by key, in one statement: each key's row (keys without one are left out). */
const GET_EXECUTIONS = `SELECT e.* FROM unnest(?::text[], ?::text[], ?::text[]) AS k(name, project, domain)
  CROSS JOIN LATERAL (SELECT * FROM executions
    WHERE execution_name = k.name AND (execution_project, execution_domain) IS NOT DISTINCT FROM (k.project, k.domain)
    LIMIT 1) e`;

export function getExecutions(db: Knex, keys: readonly ExecutionKey[]): Promise<ExecutionRow[]> {
  return withDbErrors(async () => {
    const result = (await prepared(db, GET_EXECUTIONS, [
      keys.map((k) => k.name),
      keys.map((k) => k.project),
      keys.map((k) => k.domain),
    ])) as { rows: ExecutionRow[] };
    return result.rows;
  });
}

export function getExecutionById(db: Knex, id: string, forUpdate = false): Promise<ExecutionRow | undefined> {
  return withDbErrors(() => {
    const q = db("executions").where({ id }).first();
    return (forUpdate ? q.forUpdate() : q) as Promise<ExecutionRow | undefined>;
  });
}

/** Applies `changes` to one row and returns the stored row (undefined when there is none). */
export function updateExecution(
  db: Knex,
  id: string,
  changes: Partial<ExecutionRow>,
): Promise<ExecutionRow | undefined> {
  return withDbErrors(async () => {
    const [row] = (await db("executions")
      .where({ id })
      .update({ ...changes, updated_at: db.fn.now() })
      .returning("*")) as ExecutionRow[];
    return row;
  });
}

/** An execution of a list page: its id, and its row's version (see listExecutionVersions). */
export interface ExecutionVersion {
  readonly id: string;
  readonly v: string;
}

/**
 * A page of executions as ids and row versions: `xmin`, the transaction that wrote the row's current version, which
 * every update changes (no two transactions share one, and a row only ever shows other sessions the last version its
 * transaction wrote). An (id, version) pair therefore names one content of the row for as long as this process
 * could remember it (transaction ids repeat only after 2^32 transactions).
 */
export function listExecutionVersions(
  db: Knex,
  scope: { project: string; domain: string; name?: string },
  req: PageRequest,
): Promise<Page<ExecutionVersion>> {
  const qb = db("executions as e")
    .select("e.id", db.raw("e.xmin::text AS v"))
    .where("e.execution_project", scope.project)
    .where("e.execution_domain", scope.domain);
  if (scope.name !== undefined && scope.name !== "") qb.where("e.execution_name", scope.name);
  if (!/(^|[(+.,])state,/.test(req.filters ?? "")) qb.where("e.state", 0);
  return listPage<ExecutionVersion>(qb, req, EXECUTION_LIST);
}

export type VersionedAnswerRow = ExecutionAnswerRow & ExecutionVersion;

/** The answer columns of the executions `ids` (those that still exist), each with its row version. */
export function getExecutionAnswers(db: Knex, ids: readonly string[]): Promise<VersionedAnswerRow[]> {
  return withDbErrors(
    async () =>
      (await db("executions")
        .select("id", db.raw("xmin::text AS v"), ...EXECUTION_ANSWER_COLUMNS)
        .whereRaw("id = ANY(?::bigint[])", [[...ids]])) as VersionedAnswerRow[],
  );
}

/** Executions of any version of a launch plan name that are QUEUED or RUNNING (concurrency policy). */
export function countRunningForLaunchPlan(db: Knex, lp: ExecutionKey): Promise<number> {
  return withDbErrors(async () => {
    const r = (await db("executions as e")
      .join("launch_plans as l", "l.id", "e.launch_plan_id")
      .where({ "l.project": lp.project, "l.domain": lp.domain, "l.name": lp.name })
      .whereIn("e.phase", ["QUEUED", "RUNNING"])
      .count({ n: "*" })) as { n: string }[];
    return Number.parseInt(r[0]?.n ?? "0", 10);
  });
}
