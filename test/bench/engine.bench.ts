// Engine latency and throughput: CreateExecution → terminal phase seen through WatchExecution, for a 1-node and a
// 5-node `echo` workflow, with 32 concurrent clients; baseline: graphile-worker add_job → job start on the same
// Postgres in the same run. Run: npm run bench:engine
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { type Runner, run } from "graphile-worker";
import pg from "pg";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { WatchService } from "../../gen/petrel/v1/watch_pb.js";
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

const CLIENTS = 32;
const ROUNDS = 5;
const PER_CLIENT = 20;
const P = { project: "bench", domain: "development" };

type Cpu = ReturnType<typeof bench.cpu>;
type Stats = Awaited<ReturnType<typeof concurrently>>;

interface Round {
  readonly serial1: Stats;
  readonly serial5: Stats;
  readonly loaded: Stats;
  readonly cpu: Cpu;
  readonly gwSerial: Stats;
  readonly gwLoaded: Stats;
  readonly gwCpu: Cpu;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** CPU ms per execution between two readings. */
function perRun(a: Cpu, b: Cpu, runs: number): Cpu {
  return {
    server: (b.server - a.server) / runs,
    postgres: (b.postgres - a.postgres) / runs,
    client: (b.client - a.client) / runs,
  };
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

async function concurrently(clients: number, perClient: number, one: () => Promise<number>) {
  const samples: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < perClient; i++) samples.push(await one());
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  samples.sort((a, b) => a - b);
  return {
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    perSecond: samples.length / seconds,
  };
}

const bench = await startBenchServerProcess();
let runner: Runner | undefined;
try {
  const { admin, server } = bench;
  const watch = createClient(
    WatchService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.grpcPort}` }),
  );
  await admin.registerProject({ project: { id: "bench", name: "bench" } });
  await admin.createTask({
    id: taskId("echo", "v1", "bench"),
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  for (const size of [1, 5]) {
    const nodes = Array.from({ length: size }, (_, i) =>
      taskNode(`n${i}`, taskId("echo", "v1", "bench"), [
        bind("a", i === 0 ? "" : `n${i - 1}`, i === 0 ? "x" : "a"),
      ]),
    );
    const template = workflowTemplate({
      inputs: { x: intType() },
      outputs: { o: intType() },
      nodes,
      outputBindings: [bind("o", `n${size - 1}`, "a")],
    });
    await admin.createWorkflow({ id: workflowId(`chain${size}`, "v1", "bench"), spec: { template } });
    await admin.createLaunchPlan({
      id: launchPlanId(`chain${size}`, "v1", "bench"),
      spec: { workflowId: workflowId(`chain${size}`, "v1", "bench") },
    });
  }
  let n = 0;
  const oneExecution = (size: number) => async () => {
    const start = performance.now();
    const res = await admin.createExecution({
      ...P,
      name: `e${size}-${n++}`,
      spec: { launchPlan: launchPlanId(`chain${size}`, "v1", "bench") },
      inputs: { literals: { x: literalInt(1) } },
    });
    for await (const e of watch.watchExecution({ id: res.id })) {
      if (e.kind.case === "execution" && e.kind.value.closure?.phase === W.FAILED)
        throw new Error("execution failed");
    }
    return performance.now() - start;
  };
  // Baseline: graphile-worker on the same Postgres server, its own database (idle while Petrel is measured).
  const admin2 = new pg.Client({ connectionString: server.databaseUrl });
  await admin2.connect();
  await admin2.query("DROP DATABASE IF EXISTS graphile_bench");
  await admin2.query("CREATE DATABASE graphile_bench");
  await admin2.end();
  const gwUrl = server.databaseUrl.replace(/\/[^/]+$/, "/graphile_bench");
  const waiting = new Map<string, () => void>();
  runner = await run({
    connectionString: gwUrl,
    concurrency: CLIENTS,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: new (await import("graphile-worker")).Logger(() => () => undefined),
    taskList: { echo: async (payload) => waiting.get((payload as { id: string }).id)?.() },
  });
  let k = 0;
  const oneJob = async () => {
    const id = `j${k++}`;
    const start = performance.now();
    const done = new Promise<void>((r) => waiting.set(id, r));
    await runner?.addJob("echo", { id });
    await done;
    waiting.delete(id);
    return performance.now() - start;
  };

  // Rounds alternate Petrel and the baseline, so both see the same phases of this (noisy, shared) VM; each figure
  // is the median over the rounds, with its range.
  await concurrently(4, 5, oneExecution(1)); // warm-up
  await concurrently(4, 5, oneJob);
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const serial1 = await concurrently(1, 40, oneExecution(1));
    const serial5 = await concurrently(1, 40, oneExecution(5));
    const cpu0 = bench.cpu();
    const loaded = await concurrently(CLIENTS, PER_CLIENT, oneExecution(1));
    const cpu = perRun(cpu0, bench.cpu(), CLIENTS * PER_CLIENT);
    const gwSerial = await concurrently(1, 40, oneJob);
    const gwCpu0 = bench.cpu();
    const gwLoaded = await concurrently(CLIENTS, PER_CLIENT, oneJob);
    const gwCpu = perRun(gwCpu0, bench.cpu(), CLIENTS * PER_CLIENT);
    rounds.push({ serial1, serial5, loaded, cpu, gwSerial, gwLoaded, gwCpu });
  }
  const med = (f: (r: Round) => number) => median(rounds.map(f));
  const range = (f: (r: Round) => number, fmt: (n: number) => string) => {
    const xs = rounds.map(f);
    return `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
  };
  const rate = (n: number) => n.toFixed(0);
  const p50 = med((r) => r.serial1.p50);
  const perSecond = med((r) => r.loaded.perSecond);
  const perNode = med((r) => (r.serial5.p50 - r.serial1.p50) / 4);
  const row = (
    label: string,
    petrel: (r: Round) => number,
    base: (r: Round) => number,
    unit: "ms" | "/s",
  ) => {
    const fmt = unit === "ms" ? ms : (n: number) => `${rate(n)}/s`;
    const [a, b] = [med(petrel), med(base)];
    return `| ${label} | ${fmt(a)} (${range(petrel, unit === "ms" ? (n) => n.toFixed(1) : rate)}) | ${fmt(b)} (${range(base, unit === "ms" ? (n) => n.toFixed(1) : rate)}) | ${(a / b).toFixed(unit === "ms" ? 1 : 2)}× |`;
  };
  const body = `Script: \`test/bench/engine.bench.ts\` (\`npm run bench:engine\`). \`echo\` workflows; the server runs as
\`petrel serve\` in its own process on the embedded Postgres, durable (fsync and synchronous commit on, as the
product runs), the clients in the benchmark's process; latency =
CreateExecution until the terminal phase arrives on WatchExecution. Baseline: graphile-worker 0.17
(add_job → job start) on the same Postgres server. ${ROUNDS} rounds alternate Petrel and the baseline; each figure
is the median of the rounds (range in parentheses).

| measurement | Petrel | graphile-worker baseline | ratio (Petrel / baseline) |
|---|---|---|---|
${row(
  "p50, one client, 1-node workflow",
  (r) => r.serial1.p50,
  (r) => r.gwSerial.p50,
  "ms",
)}
${row(
  `p50 with ${CLIENTS} concurrent clients`,
  (r) => r.loaded.p50,
  (r) => r.gwLoaded.p50,
  "ms",
)}
${row(
  `p99 with ${CLIENTS} concurrent clients`,
  (r) => r.loaded.p99,
  (r) => r.gwLoaded.p99,
  "ms",
)}
${row(
  `throughput with ${CLIENTS} clients (executions / jobs)`,
  (r) => r.loaded.perSecond,
  (r) => r.gwLoaded.perSecond,
  "/s",
)}

- CPU per execution with ${CLIENTS} clients (user + system, from /proc): server ${ms(med((r) => r.cpu.server))},
  Postgres ${ms(med((r) => r.cpu.postgres))}, the clients' process ${ms(med((r) => r.cpu.client))} (300 executions/s on
  2 cores leaves 6.67 ms in all). graphile-worker per job: Postgres ${ms(med((r) => r.gwCpu.postgres))}, worker and
  clients ${ms(med((r) => r.gwCpu.client))}.
- each extra node (p50 of a 5-node chain vs 1 node, one client): **${ms(perNode)}** per node (target ≤ 3 ms)
- targets on this 2-core machine: p50 ≤ 15 ms, ≥ 300 executions/s — ${p50 <= 15 && perSecond >= 300 ? "met" : "**not met yet**"} (rounds meeting both: ${rounds.filter((r) => r.serial1.p50 <= 15 && r.loaded.perSecond >= 300).length} of ${ROUNDS})`;
  writeSection("Engine: execution latency and throughput", body);
  console.log(body);
} finally {
  await runner?.stop();
  await bench.stop();
}
