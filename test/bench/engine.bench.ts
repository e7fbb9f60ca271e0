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
const PER_CLIENT = 20;
const P = { project: "bench", domain: "development" };

type Cpu = ReturnType<typeof bench.cpu>;

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
  await concurrently(4, 5, oneExecution(1)); // warm-up
  const serial1 = await concurrently(1, 40, oneExecution(1));
  const serial5 = await concurrently(1, 40, oneExecution(5));
  const cpu0 = bench.cpu();
  const loaded = await concurrently(CLIENTS, PER_CLIENT, oneExecution(1));
  const cpu = perRun(cpu0, bench.cpu(), CLIENTS * PER_CLIENT);

  // Baseline: graphile-worker on the same Postgres server, its own database.
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
  await concurrently(4, 5, oneJob);
  const gwSerial = await concurrently(1, 40, oneJob);
  const gwCpu0 = bench.cpu();
  const gwLoaded = await concurrently(CLIENTS, PER_CLIENT, oneJob);
  const gwCpu = perRun(gwCpu0, bench.cpu(), CLIENTS * PER_CLIENT);

  const perNode = (serial5.p50 - serial1.p50) / 4;
  const body = `Script: \`test/bench/engine.bench.ts\` (\`npm run bench:engine\`). \`echo\` workflows; the server runs as
\`petrel serve\` in its own process on the embedded Postgres, the clients in the benchmark's process; latency =
CreateExecution until the terminal phase arrives on WatchExecution. Baseline: graphile-worker 0.17
(add_job → job start) on the same Postgres server in the same run.

| measurement | Petrel | graphile-worker baseline | ratio (Petrel / baseline) |
|---|---|---|---|
| p50, one client, 1-node workflow | ${ms(serial1.p50)} | ${ms(gwSerial.p50)} | ${(serial1.p50 / gwSerial.p50).toFixed(1)}× |
| p50 with ${CLIENTS} concurrent clients | ${ms(loaded.p50)} | ${ms(gwLoaded.p50)} | ${(loaded.p50 / gwLoaded.p50).toFixed(1)}× |
| p99 with ${CLIENTS} concurrent clients | ${ms(loaded.p99)} | ${ms(gwLoaded.p99)} | ${(loaded.p99 / gwLoaded.p99).toFixed(1)}× |
| throughput with ${CLIENTS} clients | ${loaded.perSecond.toFixed(0)} executions/s | ${gwLoaded.perSecond.toFixed(0)} jobs/s | ${(loaded.perSecond / gwLoaded.perSecond).toFixed(2)}× |

- CPU per execution with ${CLIENTS} clients (user + system, from /proc): server ${ms(cpu.server)}, Postgres
  ${ms(cpu.postgres)}, the clients' process ${ms(cpu.client)} — ${ms(cpu.server + cpu.postgres + cpu.client)} in all on 2 cores
  (300 executions/s leaves 6.67 ms). graphile-worker per job: Postgres ${ms(gwCpu.postgres)}, worker and clients
  ${ms(gwCpu.client)}.
- each extra node (p50 of a 5-node chain vs 1 node, one client): **${ms(perNode)}** per node (target ≤ 3 ms)
- targets on this 2-core machine: p50 ≤ 15 ms, ≥ 300 executions/s — ${serial1.p50 <= 15 && loaded.perSecond >= 300 ? "met" : "**not met yet**"}`;
  writeSection("Engine: execution latency and throughput", body);
  console.log(body);
} finally {
  await runner?.stop();
  await bench.stop();
}
