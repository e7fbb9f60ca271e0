// Big workflows: a chain and a fan-out of 10,000 `echo` nodes, CreateExecution → SUCCEEDED, with GetVersion answered
// meanwhile (sampled every 10 ms from another process). Baseline: graphile-worker on the same Postgres server in the
// same run — a chain of 10,000 jobs (each job adds the next) and a fan-out of 10,000 jobs added in bulk. Rounds
// alternate Petrel and the baseline; Postgres runs durable (fsync and synchronous commit on), as the product does.
// Run: npm run bench:big-workflows (PETREL_BENCH_BIG_SIZE, PETREL_BENCH_BIG_ROUNDS to change the size and rounds;
// BENCH_SERVER_NODE_OPTIONS is passed to the server process as NODE_OPTIONS, e.g. to load a profiler)
import { Logger, type Runner, run } from "graphile-worker";
import pg from "pg";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import {
  bind,
  intType,
  launchPlanId,
  literalInt,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { ms, startBenchServerProcess, writeSection } from "./bench-support.js";

const SIZE = Number(process.env.PETREL_BENCH_BIG_SIZE ?? 10_000);
const ROUNDS = Number(process.env.PETREL_BENCH_BIG_ROUNDS ?? 3);
const SAMPLE_MS = 10;
const P = { project: "bench", domain: "development" };
type Shape = "chain" | "fan-out";

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const percentile = (xs: readonly number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
};
const range = (xs: readonly number[], f: (n: number) => string) =>
  `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;

const bench = await startBenchServerProcess(
  process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {},
  { durable: true },
);
let runner: Runner | undefined;
try {
  const { admin, server } = bench;
  await admin.registerProject({ project: { id: "bench", name: "bench" } });
  const echo = taskId("echo", "v1", "bench");
  await admin.createTask({
    id: echo,
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  for (const shape of ["chain", "fan-out"] as const) {
    const nodes: Node[] = Array.from({ length: SIZE }, (_, i) =>
      taskNode(`n${i}`, echo, [
        shape === "chain" && i > 0 ? bind("a", `n${i - 1}`, "a") : bind("a", "", "x"),
      ]),
    );
    const template = workflowTemplate({
      inputs: { x: intType() },
      outputs: { o: intType() },
      nodes,
      outputBindings: [bind("o", `n${SIZE - 1}`, "a")],
    });
    const started = performance.now();
    await admin.createWorkflow({ id: workflowId(shape, "v1", "bench"), spec: { template } });
    await admin.createLaunchPlan({
      id: launchPlanId(shape, "v1", "bench"),
      spec: { workflowId: workflowId(shape, "v1", "bench") },
    });
    console.log(`registered the ${SIZE}-node ${shape} in ${ms(performance.now() - started)}`);
  }

  /** GetVersion latencies while `work` runs, one call every SAMPLE_MS. */
  async function sampled<T>(work: Promise<T>): Promise<{ result: T; latencies: number[] }> {
    const latencies: number[] = [];
    let done = false;
    const sampler = (async () => {
      while (!done) {
        const start = performance.now();
        await admin.getVersion({});
        latencies.push(performance.now() - start);
        await new Promise((r) => setTimeout(r, SAMPLE_MS));
      }
    })();
    try {
      return { result: await work, latencies };
    } finally {
      done = true;
      await sampler;
    }
  }

  let n = 0;
  async function petrel(shape: Shape): Promise<number> {
    const name = `${shape === "chain" ? "c" : "f"}${n++}`;
    const start = performance.now();
    await admin.createExecution({
      ...P,
      name,
      spec: { launchPlan: launchPlanId(shape, "v1", "bench") },
      inputs: { literals: { x: literalInt(1) } },
    });
    for (;;) {
      const e = await admin.getExecution({ id: { ...P, name } });
      if (e.closure?.phase === W.SUCCEEDED) return performance.now() - start;
      if (e.closure?.phase === W.FAILED) throw new Error(`${name} failed`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  // Baseline: graphile-worker in this process on its own database of the same Postgres server.
  const pgAdmin = new pg.Client({ connectionString: server.databaseUrl });
  await pgAdmin.connect();
  await pgAdmin.query("DROP DATABASE IF EXISTS graphile_big");
  await pgAdmin.query("CREATE DATABASE graphile_big");
  await pgAdmin.end();
  let finish: (() => void) | undefined;
  let remaining = 0;
  runner = await run({
    connectionString: server.databaseUrl.replace(/\/[^/]+$/, "/graphile_big"),
    concurrency: 32,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: new Logger(() => () => undefined),
    taskList: {
      link: async (payload, helpers) => {
        const { i } = payload as { i: number };
        if (i + 1 < SIZE) await helpers.addJob("link", { i: i + 1 });
        else finish?.();
      },
      leaf: async () => {
        if (--remaining === 0) finish?.();
      },
    },
  });
  async function baseline(shape: Shape): Promise<number> {
    const done = new Promise<void>((r) => {
      finish = r;
    });
    const start = performance.now();
    if (shape === "chain") await runner?.addJob("link", { i: 0 });
    else {
      remaining = SIZE;
      const client = new pg.Client({
        connectionString: server.databaseUrl.replace(/\/[^/]+$/, "/graphile_big"),
      });
      await client.connect();
      await client.query(
        "SELECT graphile_worker.add_jobs(array_agg(ROW('leaf', '{}'::json, NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec)) FROM generate_series(1, $1)",
        [SIZE],
      );
      await client.end();
    }
    await done;
    return performance.now() - start;
  }

  interface Round {
    readonly petrel: Record<Shape, number>;
    readonly baseline: Record<Shape, number>;
    readonly busy: number[];
    readonly idle: number[];
  }
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const round: Round = {
      petrel: { chain: 0, "fan-out": 0 },
      baseline: { chain: 0, "fan-out": 0 },
      busy: [],
      idle: [],
    };
    for (const shape of ["chain", "fan-out"] as const) {
      const p = await sampled(petrel(shape));
      round.petrel[shape] = p.result;
      round.busy.push(...p.latencies);
      const b = await sampled(baseline(shape));
      round.baseline[shape] = b.result;
      round.idle.push(...b.latencies);
      console.log(`round ${r + 1} ${shape}: Petrel ${ms(p.result)}, graphile-worker ${ms(b.result)}`);
    }
    rounds.push(round);
  }

  const s = (n: number) => `${(n / 1000).toFixed(2)} s`;
  const row = (shape: Shape) => {
    const p = rounds.map((r) => r.petrel[shape]);
    const b = rounds.map((r) => r.baseline[shape]);
    return `| ${SIZE.toLocaleString("en")}-node ${shape} | ${s(median(p))} (${range(p, s)}) | ${s(median(b))} (${range(b, s)}) | ${(median(p) / median(b)).toFixed(2)}× |`;
  };
  const p99Busy = rounds.map((r) => percentile(r.busy, 0.99));
  const p99Idle = rounds.map((r) => percentile(r.idle, 0.99));
  const p50Busy = rounds.map((r) => percentile(r.busy, 0.5));
  const worst = Math.max(...rounds.map((r) => r.petrel.chain), ...rounds.map((r) => r.petrel["fan-out"]));
  const body = `Script: \`test/bench/big-workflows.bench.ts\` (\`npm run bench:big-workflows\`). \`petrel serve\` in its own
process on the embedded Postgres, **durable** (fsync and synchronous commit on); CreateExecution until GetExecution
reports SUCCEEDED (polled every 20 ms). Baseline: graphile-worker 0.17 on the same Postgres server — a chain where
each job adds the next, and a fan-out added in one \`add_jobs\` call (concurrency 32). ${ROUNDS} rounds alternate Petrel
and the baseline; figures are medians of the rounds (range in parentheses).

| workflow | Petrel | graphile-worker baseline | ratio (Petrel / baseline) |
|---|---|---|---|
${row("chain")}
${row("fan-out")}

- GetVersion while Petrel runs them (one call every ${SAMPLE_MS} ms from the benchmark's process): p50 ${ms(median(p50Busy))},
  p99 ${ms(median(p99Busy))} (per-round p99 ${range(p99Busy, (n) => n.toFixed(1))} ms); the same calls while the
  server is idle (during the baseline): p99 ${ms(median(p99Idle))} — ratio ${(median(p99Busy) / median(p99Idle)).toFixed(1)}×.
- Targets (issue 12): 10,000 echo nodes in ≤ 10 s — ${worst <= 10_000 ? "met in every round" : `**not met** (slowest round ${s(worst)})`};
  GetVersion p99 ≤ 50 ms meanwhile — ${median(p99Busy) <= 50 ? "met" : "**not met**"} (rounds meeting it: ${p99Busy.filter((x) => x <= 50).length} of ${ROUNDS}).`;
  writeSection("Big workflows: 10,000-node chains and fan-outs", body);
  console.log(body);
} finally {
  await runner?.stop();
  await bench.stop();
}
