// Plans must not depend on lucky statistics: in a fresh database that has never been analyzed (as every new install
// is until autovacuum gets to it), the watch-state statement and the engine's hot reads must use indexes, not scan
// node_executions, task_executions or executions, both on empty tables (the plans prepared statements cache at start)
// and once the tables hold thousands of rows. EXPLAIN (FORMAT JSON) of the exact SQL each function runs, as a
// custom plan (with its values) and as the generic plan a prepared statement settles on.
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../server/db/database.js";
import { lockExecutions, nodeRowsOf } from "../../server/repositories/engine-locks.js";
import { EXECUTION_LIST, getExecution } from "../../server/repositories/execution-repo.js";
import { findExecutionsIn, loadExecutionStates } from "../../server/repositories/execution-state-repo.js";
import { filterScope } from "../../server/repositories/list-spec.js";
import { claimWork } from "../../server/repositories/work-repo.js";
import { parseFilters } from "../../server/validation/filter-grammar.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

const TABLES = ["executions", "node_executions", "task_executions"] as const;
const EXECUTIONS = 1_500;
const NODES_PER_EXECUTION = 3;
const ATTEMPTS_PER_NODE = 2;

let database: TestDatabase;
let db: Knex;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDatabase(database.url, 4);
  // Nothing may analyze these tables while the test runs: the point is to plan without statistics.
  for (const t of TABLES) await db.raw(`ALTER TABLE ${t} SET (autovacuum_enabled = false)`);
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

async function statisticsRows(): Promise<number> {
  const r = (await db.raw(
    "SELECT count(*)::int AS n FROM pg_stats WHERE schemaname = 'public' AND tablename = ANY(?)",
    [[...TABLES]],
  )) as { rows: { n: number }[] };
  return r.rows[0]?.n ?? -1;
}

async function fill(): Promise<void> {
  await db.raw(
    `INSERT INTO workflows (project, domain, name, version, digest, typed_interface, closure)
     VALUES ('p', 'd', 'wf', 'v1', 'digest', '\\x00', '\\x00')`,
  );
  // Two projects sharing names, as the by-key lookup must tell them apart.
  for (const [project, count] of [
    ["p", EXECUTIONS - EXECUTIONS / 10],
    ["other", EXECUTIONS / 10],
  ] as const) {
    await db.raw(
      `INSERT INTO executions (execution_project, execution_domain, execution_name, workflow_id, phase, spec, closure)
       SELECT ?, 'd', 'run-' || g, (SELECT id FROM workflows), 'RUNNING',
              decode(repeat('ab', 100), 'hex'), decode(repeat('cd', 300), 'hex')
         FROM generate_series(1, ?) g`,
      [project, count],
    );
  }
  await db.raw(
    `INSERT INTO node_executions (execution_id, node_id, phase, closure, input_uri)
     SELECT e.id, 'n' || k, 'SUCCEEDED', decode(repeat('ef', 200), 'hex'), 's3://bucket/' || e.id || '/' || k
       FROM executions e, generate_series(1, ?) k`,
    [NODES_PER_EXECUTION],
  );
  await db.raw(
    `INSERT INTO task_executions (node_execution_id, project, domain, name, version, retry_attempt, phase, closure)
     SELECT n.id, 'p', 'd', 't', 'v1', a, 'SUCCEEDED', decode(repeat('01', 200), 'hex')
       FROM node_executions n, generate_series(0, ? - 1) a`,
    [ATTEMPTS_PER_NODE],
  );
}

interface PlanNode {
  readonly "Node Type": string;
  readonly "Relation Name"?: string;
  readonly "Index Name"?: string;
  readonly Plans?: readonly PlanNode[];
}

function* nodesOf(plan: PlanNode): Generator<PlanNode> {
  yield plan;
  for (const p of plan.Plans ?? []) yield* nodesOf(p);
}

/** How each table is read: `Seq Scan`, `Index Scan using <index>`, … */
function accessPaths(plan: PlanNode): string[] {
  return [...nodesOf(plan)]
    .filter((n) => n["Relation Name"] !== undefined || n["Index Name"] !== undefined)
    .map(
      (n) =>
        `${n["Node Type"]} on ${n["Relation Name"] ?? "?"}${n["Index Name"] ? ` using ${n["Index Name"]}` : ""}`,
    );
}

interface Captured {
  readonly sql: string;
  readonly bindings: readonly unknown[];
}

/** The statements `call` runs on `db`, as sent (native `$n` placeholders). */
async function capture(call: () => Promise<unknown>): Promise<Captured[]> {
  const seen: Captured[] = [];
  const on = (q: { sql: string; bindings?: unknown[] }) =>
    seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
  db.on("query", on);
  try {
    await call();
  } finally {
    db.off("query", on);
  }
  return seen;
}

const literal = (v: unknown): string => {
  const text = Array.isArray(v)
    ? `{${v.map((x) => `"${String(x).replace(/["\\]/g, "\\$&")}"`).join(",")}}`
    : String(v);
  return `'${text.replace(/'/g, "''")}'`;
};

/** The custom plan (values known) and the generic plan (what a prepared statement caches) of one statement. */
async function plans(q: Captured): Promise<{ custom: PlanNode; generic: PlanNode }> {
  const custom = (await db.raw(
    `EXPLAIN (FORMAT JSON) ${q.sql.replace(/\$(\d+)/g, "?")}`,
    q.bindings as never,
  )) as {
    rows: { "QUERY PLAN": { Plan: PlanNode }[] }[];
  };
  const generic = await db.transaction(async (trx) => {
    await trx.raw("SET LOCAL plan_cache_mode = force_generic_plan");
    await trx.raw(`PREPARE plan_check AS ${q.sql}`);
    const args = q.bindings.length > 0 ? `(${q.bindings.map(literal).join(", ")})` : "";
    const r = (await trx.raw(`EXPLAIN (FORMAT JSON) EXECUTE plan_check${args}`)) as {
      rows: { "QUERY PLAN": { Plan: PlanNode }[] }[];
    };
    await trx.raw("DEALLOCATE plan_check");
    return r;
  });
  const root = (r: typeof custom) => r.rows[0]?.["QUERY PLAN"][0]?.Plan as PlanNode;
  return { custom: root(custom), generic: root(generic) };
}

/** Asserts both plans read `tables` through an index and scan none of the growing tables. */
async function expectIndexed(q: Captured, tables: readonly string[]): Promise<void> {
  const { custom, generic } = await plans(q);
  for (const [mode, plan] of [
    ["custom", custom],
    ["generic", generic],
  ] as const) {
    const paths = accessPaths(plan);
    const context = `${mode} plan: ${paths.join("; ")}\n${q.sql}`;
    if (process.env.SHOW_PLANS) console.log(context);
    expect(
      paths.filter((p) => /^Seq Scan on (executions|node_executions|task_executions)$/.test(p)),
      context,
    ).toEqual([]);
    // The list indexes lead with (project, domain): looking one execution up through them reads the whole project.
    expect(
      paths.filter((p) => / using executions_(list|phase)_idx$/.test(p)),
      context,
    ).toEqual([]);
    for (const t of tables) {
      expect(
        paths.some(
          (p) =>
            new RegExp(`^(Index Scan|Index Only Scan|Bitmap Index Scan) on .* using ${t}_`).test(p) ||
            new RegExp(`^(Index Scan|Index Only Scan) on ${t} `).test(p),
        ),
        `${t} through an index — ${context}`,
      ).toBe(true);
    }
  }
}

const P = { project: "p", domain: "d" };

/** The statements of the hot reads, for some ids and keys that exist (after fill) or not (before). */
async function hotStatements(ids: string[]): Promise<Record<string, Captured>> {
  const only = async (call: () => Promise<unknown>) => {
    const [q, ...more] = await capture(call);
    if (q === undefined || more.length > 0) throw new Error("expected one statement");
    return q;
  };
  const states = await only(() =>
    loadExecutionStates(db, ids, [
      { ...P, name: "run-3" },
      { ...P, name: "nope" },
    ]),
  );
  const watchList = await only(() =>
    findExecutionsIn(db, P, parseFilters("eq(phase,RUNNING)", filterScope(EXECUTION_LIST)), ids),
  );
  const byKey = await only(() => getExecution(db, { ...P, name: "run-7" }));
  const nodes = await only(() => nodeRowsOf(db, ids));
  const locking = await capture(() =>
    db.transaction((trx) => lockExecutions(trx, ids, 1_000, { withNodes: true })),
  );
  const nodesAfterLock = locking
    .flatMap((q) => q.sql.split(/;\s*\n/))
    .find((part) => part.includes("FROM node_executions"));
  if (nodesAfterLock === undefined) throw new Error("lockExecutions: no node statement");
  return { states, watchList, byKey, nodes, nodesAfterLock: { sql: nodesAfterLock, bindings: [] } };
}

async function expectHotReadsIndexed(ids: string[]): Promise<void> {
  const q = await hotStatements(ids);
  await expectIndexed(q.states as Captured, ["executions", "node_executions", "task_executions"]);
  await expectIndexed(q.watchList as Captured, ["executions"]);
  await expectIndexed(q.byKey as Captured, ["executions"]);
  await expectIndexed(q.nodes as Captured, ["node_executions"]);
  await expectIndexed(q.nodesAfterLock as Captured, ["node_executions"]);
}

describe("hot reads on tables that were never analyzed", () => {
  it("use indexes while the tables are empty", async () => {
    expect(await statisticsRows()).toBe(0);
    await expectHotReadsIndexed(["1", "2", "3"]);
  });

  it("use indexes once the tables hold thousands of rows", async () => {
    await fill();
    const counts = (await db.raw(
      "SELECT (SELECT count(*) FROM node_executions)::int AS n, (SELECT count(*) FROM task_executions)::int AS t",
    )) as { rows: { n: number; t: number }[] };
    expect(counts.rows[0]).toEqual({
      n: EXECUTIONS * NODES_PER_EXECUTION,
      t: EXECUTIONS * NODES_PER_EXECUTION * ATTEMPTS_PER_NODE,
    });
    const ids = (await db("executions").select("id").orderBy("id").limit(48)).map(
      (r: { id: string }) => r.id,
    );
    await expectHotReadsIndexed(ids);
    expect(await statisticsRows()).toBe(0);
  });

  it("would have scanned task_executions with the statement the watch streams used before", async () => {
    // The control: the same data makes the old shape (a join Postgres may hash) read the whole table.
    const old = `SELECT e.id,
        (SELECT count(*) FROM task_executions t JOIN node_executions n ON n.id = t.node_execution_id
          WHERE n.execution_id = e.id) AS tasks
      FROM executions e WHERE e.id = ANY($1::bigint[])`;
    const { custom } = await plans({ sql: old, bindings: [["1", "2"]] });
    expect(accessPaths(custom)).toContain("Seq Scan on task_executions");
    expect(await statisticsRows()).toBe(0);
  });

  it("still read the right rows", async () => {
    const [first] = await loadExecutionStates(db, [], [{ ...P, name: "run-3" }]);
    expect(first?.exec).toMatchObject({ execution_project: "p", execution_name: "run-3" });
    expect(first?.nodes.map((n) => n.node_id)).toEqual(["n1", "n2", "n3"]);
    expect(first?.tasks).toHaveLength(NODES_PER_EXECUTION * ATTEMPTS_PER_NODE);
    expect(first?.tasks.map((t) => Number(t.id))).toEqual(
      [...(first?.tasks.map((t) => Number(t.id)) ?? [])].sort((a, b) => a - b),
    );
    const other = await getExecution(db, { project: "other", domain: "d", name: "run-5" });
    expect(other).toMatchObject({ execution_project: "other", execution_name: "run-5" });
    expect(await getExecution(db, { project: "p", domain: "d", name: "run-5" })).toMatchObject({
      execution_project: "p",
    });
    expect(await getExecution(db, { project: "p", domain: "x", name: "run-5" })).toBeUndefined();
    const ids = [first?.exec.id ?? "", other?.id ?? ""];
    const found = await findExecutionsIn(db, P, [], [...ids, ids[0] ?? ""]);
    expect(found.map((r) => r.id)).toEqual([first?.exec.id]);
    const nodes = await nodeRowsOf(db, [...ids, ids[0] ?? ""]);
    expect(nodes).toHaveLength(2 * NODES_PER_EXECUTION);
    expect(nodes.map((n) => Number(n.id))).toEqual(nodes.map((n) => Number(n.id)).sort((a, b) => a - b));
  });
});

describe("the engine's claim on a work queue that was never analyzed", () => {
  it("reads the queue through its partial indexes and claims the due items in order", async () => {
    await db.raw("ALTER TABLE work_items SET (autovacuum_enabled = false)");
    const [exec] = (await db("executions").select("id").orderBy("id").limit(1)) as { id: string }[];
    const id = exec?.id ?? "1";
    // A backlog: held leases, items due later, external-worker items, and three due items.
    await db.raw(
      `INSERT INTO work_items (execution_id, kind, node_id, attempt, run_after, leased_by, lease_until, queue)
       SELECT ?, 'run_task', 'n' || g, 0, now() - interval '1 hour',
              CASE WHEN g % 3 = 0 THEN 'other' END, CASE WHEN g % 3 = 0 THEN now() + interval '1 hour' END,
              CASE WHEN g % 3 = 1 THEN 'worker-queue' END
         FROM generate_series(1, 3000) g`,
      [id],
    );
    await db.raw(
      `INSERT INTO work_items (execution_id, kind, node_id, attempt, run_after)
       SELECT ?, 'run_task', 'later' || g, 0, now() + interval '1 hour' FROM generate_series(1, 3000) g`,
      [id],
    );
    await db("work_items")
      .where({ queue: null, leased_by: null })
      .where("run_after", "<", db.raw("now()"))
      .delete();
    const due = await db("work_items")
      .insert(
        [0, 1, 2].map((i) => ({
          execution_id: id,
          kind: "run_task",
          node_id: `due${i}`,
          attempt: 0,
          run_after: db.raw(`now() - interval '${10 - i} minutes'`),
        })),
      )
      .returning("id");
    const expired = await db("work_items")
      .insert({
        execution_id: id,
        kind: "run_task",
        node_id: "expired",
        attempt: 0,
        run_after: db.raw("now() - interval '20 minutes'"),
        leased_by: "dead",
        lease_until: db.raw("now() - interval '1 minute'"),
      })
      .returning("id");
    const [q, ...more] = await capture(() => claimWork(db, "me", 8, 30_000));
    if (q === undefined || more.length > 0) throw new Error("expected one statement");
    for (const plan of Object.values(await plans(q))) {
      const paths = accessPaths(plan);
      expect(
        paths.filter((p) => p.startsWith("Seq Scan")),
        paths.join("; "),
      ).toEqual([]);
      expect(
        paths.some((p) => p.endsWith("using work_items_unleased_idx")),
        paths.join("; "),
      ).toBe(true);
      expect(
        paths.some((p) => p.endsWith("using work_items_leased_idx")),
        paths.join("; "),
      ).toBe(true);
    }
    // The capture ran the claim: the expired lease and the due items, oldest first; nothing else.
    const claimed = (await db("work_items").where({ leased_by: "me" }).orderBy("run_after")) as {
      id: string;
    }[];
    expect(claimed.map((r) => String(r.id))).toEqual(
      [...expired, ...due].map((r: { id: string }) => String(r.id)),
    );
    const next = await claimWork(db, "me", 8, 30_000);
    expect(next.items).toEqual([]);
    // Next due: the leases just taken (30 s), before the held ones and the items due in an hour.
    expect(next.nextReadyMs).toBeGreaterThan(20_000);
    expect(next.nextReadyMs).toBeLessThanOrEqual(30_000);
    expect(await statisticsRows()).toBe(0);
  });
});
