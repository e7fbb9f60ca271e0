// Soak: five minutes at half the maximum throughput with 64 watch streams open, on durable Postgres (the product's
// settings), sampling the server's RSS, open file descriptors and Postgres connections every 10 s. Resources must stay
// flat: the last minute's medians against the first minute's. Run: npm run bench:soak (SOAK_SECONDS shortens it).
import fs from "node:fs";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
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
import { startBenchServerProcess, writeSection } from "./bench-support.js";

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const PROBE_SECONDS = 20;
const CLIENTS = 32;
const WATCHERS = 64;
const SAMPLE_MS = 10_000;
const P = { project: "soak", domain: "development" };

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor((s.length - 1) / 2)] ?? 0);
};
const percentile = (xs: readonly number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
};

/** The server's resident memory (MiB) and open file descriptors, from /proc. */
function processSample(pid: number) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { rssMiB: rssKb / 1024, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

const bench = await startBenchServerProcess({}, { durable: true });
const stats = new pg.Client({ connectionString: bench.server.databaseUrl });
const watchers: AbortController[] = [];
try {
  await stats.connect();
  const { admin, server } = bench;
  const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.grpcPort}` });
  const watch = createClient(WatchService, transport);
  await admin.registerProject({ project: { id: P.project, name: P.project } });
  const echo = taskId("echo", "v1", P.project);
  await admin.createTask({
    id: echo,
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  const wf = workflowId("one", "v1", P.project);
  await admin.createWorkflow({
    id: wf,
    spec: {
      template: workflowTemplate({
        inputs: { x: intType() },
        outputs: { o: intType() },
        nodes: [taskNode("n0", echo, [bind("a", "", "x")])],
        outputBindings: [bind("o", "n0", "a")],
      }),
    },
  });
  await admin.createLaunchPlan({ id: launchPlanId("one", "v1", P.project), spec: { workflowId: wf } });

  let n = 0;
  const oneExecution = async (): Promise<number> => {
    const start = performance.now();
    const res = await admin.createExecution({
      ...P,
      name: `s${n++}`,
      spec: { launchPlan: launchPlanId("one", "v1", P.project) },
      inputs: { literals: { x: literalInt(1) } },
    });
    for await (const e of watch.watchExecution({ id: res.id })) {
      if (e.kind.case === "execution" && e.kind.value.closure?.phase === W.FAILED) throw new Error("failed");
    }
    return performance.now() - start;
  };

  // 64 long-lived streams over every execution of the project.
  let watchEvents = 0;
  for (let i = 0; i < WATCHERS; i++) {
    const abort = new AbortController();
    watchers.push(abort);
    void (async () => {
      try {
        for await (const _ of watch.watchExecutions({ ...P }, { signal: abort.signal })) watchEvents++;
      } catch {
        // aborted at the end
      }
    })();
  }

  // The maximum with the streams open: 32 clients back to back.
  const probeEnd = performance.now() + PROBE_SECONDS * 1000;
  let probed = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < probeEnd) {
        await oneExecution();
        probed++;
      }
    }),
  );
  const maxRate = probed / PROBE_SECONDS;
  const rate = maxRate / 2;

  // Open loop at half the maximum: one execution every 1/rate s, whatever the latency.
  const latencies: number[] = [];
  const samples: { t: number; rssMiB: number; fds: number; connections: number }[] = [];
  let failures = 0;
  const inflight = new Set<Promise<void>>();
  const started = performance.now();
  const end = started + SOAK_SECONDS * 1000;
  let nextSample = started;
  for (let i = 0; performance.now() < end; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (performance.now() >= nextSample) {
      nextSample += SAMPLE_MS;
      const rows = await stats.query(
        "SELECT count(*)::int AS c FROM pg_stat_activity WHERE backend_type = 'client backend'",
      );
      samples.push({
        t: (performance.now() - started) / 1000,
        ...processSample(server.pid),
        connections: Number(rows.rows[0]?.c ?? 0),
      });
    }
    const p: Promise<void> = oneExecution()
      .then((ms) => void latencies.push(ms))
      .catch(() => void failures++)
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - started) / 1000;

  const first = samples.filter((s) => s.t < 60);
  const last = samples.filter((s) => s.t >= elapsed - 60);
  const row = (name: string, pick: (s: (typeof samples)[number]) => number, unit: string) => {
    const a = median(first.map(pick));
    const b = median(last.map(pick));
    const all = samples.map(pick);
    const change = a === 0 ? 0 : ((b - a) / a) * 100;
    return `| ${name} | ${a.toFixed(1)} ${unit} | ${b.toFixed(1)} ${unit} | ${change >= 0 ? "+" : ""}${change.toFixed(1)}% | ${Math.min(...all).toFixed(1)}–${Math.max(...all).toFixed(1)} |`;
  };
  const body = `Script: \`test/bench/soak.bench.ts\` (\`npm run bench:soak\`). \`petrel serve\` in its own process on durable
Postgres (fsync and synchronous commit on). With the ${WATCHERS} WatchExecutions streams open over the project, the maximum throughput of 1-node \`echo\`
executions with ${CLIENTS} closed-loop clients over ${PROBE_SECONDS} s was ${maxRate.toFixed(0)} executions/s; the soak then ran an open loop at half of it
(${rate.toFixed(0)}/s, CreateExecution → terminal on WatchExecution) for ${elapsed.toFixed(0)} s (${watchEvents} events delivered to the streams in all), sampling every ${SAMPLE_MS / 1000} s.

- executions: ${latencies.length} succeeded, ${failures} failed; latency p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms

| resource | first minute (median) | last minute (median) | change | range over the run |
|---|---|---|---|---|
${row("server RSS", (s) => s.rssMiB, "MiB")}
${row("server open file descriptors", (s) => s.fds, "")}
${row("Postgres client connections", (s) => s.connections, "")}
`;
  console.log(body);
  writeSection("Soak: five minutes at half the maximum throughput, 64 watch streams", body);
} finally {
  for (const w of watchers) w.abort();
  await stats.end().catch(() => undefined);
  await bench.stop();
}
