// Retention: bytes of Postgres per 1-node `echo` execution (retained data, after VACUUM FULL), and the engine's
// throughput with 32 clients while retention deletes a backlog of old executions, in rounds that alternate with
// rounds without it. Run: npm run bench:retention
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { Registry } from "prom-client";
import { createDatabase } from "../../server/db/database.js";
import { createLogger } from "../../server/logger.js";
import { RetentionService } from "../../server/retention/retention-service.js";
import { LocalBlobStore } from "../../server/storage/local-blob-store.js";
import { HmacUrlSigner } from "../../server/storage/signed-urls.js";
import { startBenchServer, startBenchServerProcess, writeSection } from "./bench-support.js";
import { loadAverage } from "./machine.js";
import { echoChain, registerWorkloads, watchRunner } from "./petrel-workloads.js";
import { concurrently, over, QUICK, scaled, showRate, target } from "./stats.js";

/** Executions per client (16 clients) before the first size reading, and between the two readings. */
const FIRST = scaled(64, 6);
const SECOND = scaled(320, 20);
const BACKLOG = scaled(100_000, 3_000);
const ROUNDS = scaled(8, 2);
const CLIENTS = 32;
const PER_CLIENT = scaled(100, 5);
const DAY = 24 * 3_600_000;
const progress = (msg: string) => console.error(`[retention bench] ${msg}`);

type Sizes = Map<string, number>;

async function tableSizes(c: pg.Client): Promise<Sizes> {
  const r = await c.query<{ name: string; bytes: string }>(
    `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'`,
  );
  return new Map(r.rows.map((x) => [x.name, Number(x.bytes)]));
}

/** Polls until no execution is unfinished and every blob is in the store. */
async function quiesce(c: pg.Client): Promise<void> {
  for (;;) {
    const r = await c.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM executions WHERE phase NOT IN ('SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT'))::int
            + (SELECT count(*) FROM blob_outbox)::int AS n`,
    );
    if (r.rows[0]?.n === 0) return;
    await new Promise((res) => setTimeout(res, 250));
  }
}

/** Bytes per execution between two readings, by table: as written, and once finished copies are trimmed. */
async function bytesPerExecution() {
  const bench = await startBenchServer();
  try {
    const { admin, server } = bench;
    await registerWorkloads(admin, [1]);
    const run = watchRunner(admin, server.grpcPort);
    const c = new pg.Client({ connectionString: server.databaseUrl });
    await c.connect();
    const measure = async () => {
      await quiesce(c);
      await c.query("VACUUM FULL");
      const written = await tableSizes(c);
      await server.retention.pass(new Date(Date.now() + DAY));
      await c.query("VACUUM FULL");
      return { written, trimmed: await tableSizes(c) };
    };
    const after = async (perClient: number) => {
      await concurrently(16, perClient, () => run(echoChain(1)));
      return measure();
    };
    const a = await after(FIRST);
    progress(`bytes: first reading after ${16 * FIRST} executions`);
    const b = await after(SECOND);
    const runs = 16 * SECOND;
    await c.end();
    const per = (x: Sizes, y: Sizes, t: string) => ((y.get(t) ?? 0) - (x.get(t) ?? 0)) / runs;
    const tables = [...b.written.keys()].sort();
    const total = (x: Sizes, y: Sizes) => tables.reduce((s, t) => s + per(x, y, t), 0);
    // From the first reading's trimmed state: the second batch as written (the first one's copies already gone), then
    // once it is trimmed too.
    const rows = tables
      .map((t) => ({ t, written: per(a.trimmed, b.written, t), trimmed: per(a.trimmed, b.trimmed, t) }))
      .filter((r) => Math.abs(r.written) >= 0.5 || Math.abs(r.trimmed) >= 0.5)
      .sort((x, y) => y.written - x.written);
    return { rows, written: total(a.trimmed, b.written), trimmed: total(a.trimmed, b.trimmed), runs };
  } finally {
    await bench.stop();
  }
}

/**
 * `n` finished executions made `days` old, copied by SQL from finished execution `from`: their rows (their database
 * copies of blobs are long gone, as the trimmer leaves old executions, and its walk is past them).
 */
async function seedBacklog(c: pg.Client, from: string, n: number, days: number): Promise<void> {
  const old = `now() - interval '${days} days'`;
  await c.query(
    `INSERT INTO executions (execution_project, execution_domain, execution_name, launch_plan_id, workflow_id, phase,
        spec, closure, started_at, execution_created_at, execution_updated_at, duration, inputs_uri, user_inputs_uri,
        created_at, updated_at)
     SELECT t.execution_project, t.execution_domain, 'old-' || g, t.launch_plan_id, t.workflow_id, t.phase, t.spec,
        t.closure, ${old}, ${old}, ${old}, t.duration, replace(t.inputs_uri, $1, 'old-' || g),
        replace(t.user_inputs_uri, $1, 'old-' || g), ${old}, ${old}
       FROM executions t, generate_series(1, $2) g WHERE t.execution_name = $1`,
    [from, n],
  );
  await c.query(
    `INSERT INTO node_executions (execution_id, node_id, phase, closure, metadata, input_uri, started_at, duration)
     SELECT e.id, n.node_id, n.phase, n.closure, n.metadata, replace(n.input_uri, $1, e.execution_name),
        n.started_at, n.duration
       FROM executions e, executions t JOIN node_executions n ON n.execution_id = t.id
      WHERE t.execution_name = $1 AND e.execution_name LIKE 'old-%'`,
    [from],
  );
  await c.query(
    `INSERT INTO task_executions (node_execution_id, project, domain, name, version, retry_attempt, phase, closure)
     SELECT n.id, k.project, k.domain, k.name, k.version, k.retry_attempt, k.phase, k.closure
       FROM executions t JOIN node_executions tn ON tn.execution_id = t.id
       JOIN task_executions k ON k.node_execution_id = tn.id
       JOIN node_executions n ON n.node_id = tn.node_id
       JOIN executions e ON e.id = n.execution_id AND e.execution_name LIKE 'old-%'
      WHERE t.execution_name = $1`,
    [from],
  );
  await c.query(
    `UPDATE executions SET updated_at = ${old}, execution_created_at = ${old} WHERE execution_name = $1`,
    [from],
  );
  await c.query("UPDATE retention_cursors SET last_id = (SELECT max(id) FROM executions)");
  await c.query("VACUUM ANALYZE");
}

type Mode = "off" | "deleting" | "trimming";
const MODES: readonly Mode[] = ["off", "deleting", "trimming"];

/**
 * Engine throughput (32 clients, 1-node echo) in rounds of three windows: without retention; while a retention loop
 * deletes the backlog; while one drops the database copies of executions as they finish (1 s after, instead of 10 min:
 * the trimmer's steady-state work, all at once).
 */
async function throughputWithRetention() {
  const blobs = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-bench-blobs-"));
  const bench = await startBenchServerProcess({ PETREL_STORAGE_URL: `file://${blobs}` });
  const db = createDatabase(bench.server.databaseUrl, 4);
  const store = new LocalBlobStore(blobs, new HmacUrlSigner(randomBytes(32)));
  const c = new pg.Client({ connectionString: bench.server.databaseUrl });
  try {
    await c.connect();
    await registerWorkloads(bench.admin, [1]);
    const run = watchRunner(bench.admin, bench.server.grpcPort);
    await run(echoChain(1));
    const template = (await c.query<{ name: string }>("SELECT execution_name AS name FROM executions"))
      .rows[0];
    await quiesce(c);
    const seedStart = performance.now();
    await seedBacklog(c, template?.name ?? "", BACKLOG, 60);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    progress(`seeded ${BACKLOG} old executions in ${seedSeconds.toFixed(0)} s`);
    await concurrently(CLIENTS, 5, () => run(echoChain(1))); // warm-up
    const rounds: Record<Mode, { perSecond: number; done: number }>[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const round = {} as Record<Mode, { perSecond: number; done: number }>;
      for (const mode of MODES) {
        // Another replica's retention loop (this script's process), running through the window.
        const registry = new Registry();
        const retention = new RetentionService(db, store, createLogger("warn"), registry, {
          retainDays: mode === "deleting" ? 30 : 0,
          ...(mode === "trimming" ? { trimAfterMs: 1_000 } : {}),
          intervalMs: 200,
        });
        if (mode !== "off") retention.start();
        const w = await concurrently(CLIENTS, PER_CLIENT, () => run(echoChain(1)));
        await retention.stop();
        const counted = async (name: string) =>
          (await registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;
        const done = await counted(
          mode === "deleting"
            ? "petrel_retention_executions_deleted_total"
            : "petrel_retention_copies_dropped_total",
        );
        round[mode] = { perSecond: w.perSecond, done: done / (w.count / w.perSecond) };
        progress(`round ${r + 1} ${mode}: ${w.perSecond.toFixed(0)}/s, retention ${done} done`);
      }
      rounds.push(round);
    }
    const left = await c.query("SELECT count(*)::int AS n FROM executions WHERE execution_name LIKE 'old-%'");
    return { rounds, seedSeconds, remaining: Number(left.rows[0]?.n) };
  } finally {
    await c.end();
    await db.destroy();
    await bench.stop();
    fs.rmSync(blobs, { recursive: true, force: true });
  }
}

const loadBefore = loadAverage();
const bytes = await bytesPerExecution();
const loadMid = loadAverage();
const t = await throughputWithRetention();
const loadAfter = loadAverage();

const fmt = (n: number) => n.toFixed(0);
const cost = (m: Mode) => (r: (typeof t.rounds)[number]) => 1 - r[m].perSecond / r.off.perSecond;
const costOf = (m: Mode) => over(t.rounds, cost(m)).median;
const percents = (m: Mode) => t.rounds.map((r) => `${(cost(m)(r) * 100).toFixed(1)}%`).join(", ");
const body = `Script: \`test/bench/retention.bench.ts\` (\`npm run bench:retention\`)${QUICK ? " — quick run, numbers mean nothing" : ""}.

**Bytes of Postgres per 1-node \`echo\` execution.** ${bytes.runs} executions (16 clients, a server in the script's
process) between two readings, each after VACUUM FULL (pg_total_relation_size of every table: heap, TOAST and indexes).
"As written": once the executions have finished; "retained": after the retention pass that drops the database copies
of finished executions' blobs (10 minutes after they finish; the pass runs as of a day later). Before this change
(commit aed228c, the same method in a scratch script): 3,486 bytes — data_blobs 1,565, executions 938 (of which the
index on names 44, the parent index 11), node_executions 536, task_executions 448.

| table | as written | retained |
|---|---|---|
${bytes.rows.map((r) => `| ${r.t} | ${fmt(r.written)} | ${fmt(r.trimmed)} |`).join("\n")}
| **total** | **${fmt(bytes.written)}** | **${fmt(bytes.trimmed)}** |

${target(`≤ 600 bytes of Postgres per 1-node execution: ${fmt(bytes.trimmed)} bytes retained`, bytes.trimmed <= 600)}

**Engine throughput while retention works.** \`petrel serve\` in its own process (durable Postgres), with
${BACKLOG.toLocaleString("en")} finished 1-node executions 60 days old copied in by SQL (their rows; seeded in
${t.seedSeconds.toFixed(0)} s). ${ROUNDS} rounds of three windows, each ${CLIENTS} clients × ${PER_CLIENT} executions
(CreateExecution → terminal phase on WatchExecution): without retention; while a retention loop deletes the backlog
(\`--retain-executions-days 30\`, default batches of 500 and pauses eight times as long as a batch); while one drops
the database copies of finished executions' blobs (1 s after they finish rather than 10 min; it catches up on the
windows before, so it drops copies faster than the engine writes them: the engine writes 5 per execution). The
loops run in this script's process, as another replica would, and stop when their window ends.
${t.remaining.toLocaleString("en")} backlog executions were left.

| window | executions/s | retention's work meanwhile | cost per round (1 − rate / rate without) |
|---|---|---|---|
| without retention | ${showRate(over(t.rounds, (r) => r.off.perSecond))} | | |
| deleting the backlog | ${showRate(over(t.rounds, (r) => r.deleting.perSecond))} | ${showRate(over(t.rounds, (r) => r.deleting.done))} executions deleted | ${percents("deleting")} |
| trimming copies | ${showRate(over(t.rounds, (r) => r.trimming.perSecond))} | ${showRate(over(t.rounds, (r) => r.trimming.done))} copies dropped | ${percents("trimming")} |

${target(`retention costs the engine ≤ 10% while it deletes: ${(costOf("deleting") * 100).toFixed(1)}% (median of the rounds)`, costOf("deleting") <= 0.1)}

Dropping copies at ${over(t.rounds, (r) => r.trimming.done / (5 * r.trimming.perSecond)).median.toFixed(1)}× the rate the
engine writes them costs ${(costOf("trimming") * 100).toFixed(1)}% (median); in steady state the trimmer drops them at
the rate they are written, 10 minutes later. Load average
(1 / 5 / 15 min) at the start ${loadBefore}, between the parts ${loadMid}, at the end ${loadAfter}.`;
writeSection("Retention", body);
console.log(body);
