// Control flow: SetSignal → the gated task's start, and a map task over 10,000 `echo` elements end to end;
// baseline: graphile-worker add_job → job start, and 10,000 jobs added in one add_jobs call run to their completion
// commits at the same concurrency (32), on the same Postgres in alternating rounds.
// Run: npm run bench:control-flow
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { LiteralSchema } from "../../gen/flyteidl/core/literals_pb.js";
import { NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import { SignalService } from "../../gen/flyteidl/service/signal_pb.js";
import { WatchService } from "../../gen/petrel/v1/watch_pb.js";
import {
  bind,
  collectionOf,
  intType,
  launchPlanId,
  literalBool,
  literalInt,
  taskId,
  taskNode,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { type Graphile, startGraphile } from "./baselines/graphile.js";
import { freshDatabase, startBenchServerProcess, writeSection } from "./bench-support.js";
import { PROJECT, registerWorkloads } from "./petrel-workloads.js";
import { concurrently, fmtMs, median, over, type Spread, scaled, showMs, target } from "./stats.js";

const P = { project: PROJECT, domain: "development" };
const ROUNDS = scaled(5, 2);
const SIGNAL_RUNS = scaled(20, 3);
const MAP_SIZE = Number(process.env.PETREL_BENCH_MAP_SIZE ?? scaled(10_000, 500));
/** Petrel's engine claims up to 32 work items at once; the map and graphile-worker both run at that concurrency. */
const CONCURRENCY = 32;

const bench = await startBenchServerProcess();
let graphile: Graphile | undefined;
try {
  const { admin, server } = bench;
  const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.grpcPort}` });
  const signals = createClient(SignalService, transport);
  const watch = createClient(WatchService, transport);
  await registerWorkloads(admin, []);
  const echo = taskId("echo", "v1", PROJECT);
  const register = async (name: string, template: ReturnType<typeof workflowTemplate>) => {
    await admin.createWorkflow({ id: workflowId(name, "v1", PROJECT), spec: { template } });
    await admin.createLaunchPlan({
      id: launchPlanId(name, "v1", PROJECT),
      spec: { workflowId: workflowId(name, "v1", PROJECT) },
    });
  };
  const gate = create(NodeSchema, {
    id: "gate",
    inputs: [bind("a", "", "x")],
    target: { case: "gateNode", value: { condition: { case: "approve", value: { signalId: "go" } } } },
  });
  await register(
    "gated",
    workflowTemplate({
      inputs: { x: intType() },
      nodes: [gate, taskNode("after", echo, [bind("a", "gate", "a")])],
    }),
  );
  // The map at the baseline's concurrency, and as Petrel runs it by default (no parallelism: `echo` elements are
  // evaluated in the engine's transactions and hold no slot).
  for (const [name, parallelism] of [
    ["map32", CONCURRENCY],
    ["map", 0],
  ] as const) {
    const map = create(NodeSchema, {
      id: "map",
      inputs: [bind("a", "", "xs")],
      target: {
        case: "arrayNode",
        value: {
          node: taskNode("echo", echo),
          isOriginalSubNodeInterface: true,
          ...(parallelism > 0 ? { parallelismOption: { case: "parallelism", value: parallelism } } : {}),
        },
      },
    });
    await register(
      name,
      workflowTemplate({
        inputs: { xs: collectionOf(intType()) },
        outputs: { o: collectionOf(intType()) },
        nodes: [map],
        outputBindings: [bind("o", "map", "a")],
      }),
    );
  }
  graphile = await startGraphile(await freshDatabase(server.databaseUrl, "graphile_cf"), CONCURRENCY);
  const g = graphile;

  let n = 0;
  /** SetSignal → the gated node's start as the engine records it (started_at) and as a watch stream delivers it. */
  async function signalled(): Promise<{ recorded: number; seen: number }> {
    const id = { ...P, name: `g${n++}` };
    await admin.createExecution({
      ...id,
      spec: { launchPlan: launchPlanId("gated", "v1", PROJECT) },
      inputs: { literals: { x: literalInt(1) } },
    });
    let sent = 0;
    for await (const e of watch.watchExecution({ id })) {
      if (e.kind.case !== "nodeExecution") continue;
      const { id: node, closure } = e.kind.value;
      if (sent === 0 && node?.nodeId === "gate" && closure?.phase === 2) {
        sent = performance.now();
        await signals.setSignal({ id: { signalId: "go", executionId: id }, value: literalBool(true) });
      } else if (sent > 0 && node?.nodeId === "after") {
        const seen = performance.now() - sent;
        const started = closure?.startedAt ?? closure?.createdAt;
        if (started === undefined) throw new Error("the gated node has no start time");
        const startedAt = Number(started.seconds) * 1000 + started.nanos / 1e6;
        return { recorded: startedAt - (performance.timeOrigin + sent), seen };
      }
    }
    throw new Error("the gated node never started");
  }

  const xs = create(LiteralSchema, {
    value: {
      case: "collection",
      value: { literals: Array.from({ length: MAP_SIZE }, (_, i) => literalInt(i)) },
    },
  });
  /** A map over MAP_SIZE elements, CreateExecution → terminal on the watch stream; seconds. */
  async function mapped(workflow: "map32" | "map"): Promise<number> {
    const id = { ...P, name: `${workflow}-${n++}` };
    const start = performance.now();
    await admin.createExecution({
      ...id,
      spec: { launchPlan: launchPlanId(workflow, "v1", PROJECT) },
      inputs: { literals: { xs } },
    });
    for await (const e of watch.watchExecution({ id })) {
      if (e.kind.case === "execution" && e.kind.value.closure?.phase === W.FAILED)
        throw new Error("map failed");
    }
    return (performance.now() - start) / 1000;
  }

  interface Round {
    readonly recorded: number;
    readonly seen: number;
    readonly jobStart: number;
    readonly map: number;
    readonly bulk: number;
    readonly mapDefault: number;
  }
  await signalled(); // warm-up
  await g.started();
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const s: { recorded: number; seen: number }[] = [];
    for (let i = 0; i < SIGNAL_RUNS; i++) s.push(await signalled());
    const jobStart = (await concurrently(1, SIGNAL_RUNS, () => g.started())).p50;
    const petrelFirst = r % 2 === 0;
    const first = petrelFirst ? await mapped("map32") : await g.bulk(MAP_SIZE);
    const second = petrelFirst ? await g.bulk(MAP_SIZE) : await mapped("map32");
    const round = {
      recorded: median(s.map((x) => x.recorded)),
      seen: median(s.map((x) => x.seen)),
      jobStart,
      map: petrelFirst ? first : second,
      bulk: petrelFirst ? second : first,
      mapDefault: await mapped("map"),
    };
    rounds.push(round);
    console.log(`round ${r + 1}: ${JSON.stringify(round)}`);
  }

  const o = (f: (r: Round) => number) => over(rounds, f);
  const perSecond = (f: (r: Round) => number) => o((r) => MAP_SIZE / f(r));
  const showPerSecond = (s: Spread) => `${s.median.toFixed(0)}/s (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
  const signal = o((r) => r.recorded);
  const ratioOf = (f: (r: Round) => number) => {
    const x = o((r) => r.bulk / f(r));
    return `${x.median.toFixed(2)}× (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
  };
  const body = `Script: \`test/bench/control-flow.bench.ts\` (\`npm run bench:control-flow\`). \`petrel serve\` in its own process on
durable embedded Postgres (fsync and synchronous commit on). Baseline: graphile-worker 0.17 in the benchmark's process
on the same Postgres server (its own database), concurrency ${CONCURRENCY}. ${rounds.length} rounds, each: ${SIGNAL_RUNS} signalled
executions, ${SIGNAL_RUNS} graphile-worker jobs, then the map and the bulk jobs (which one goes first alternates);
medians of the rounds (range in parentheses).

| measurement | Petrel | graphile-worker baseline | ratio (Petrel / baseline) |
|---|---|---|---|
| SetSignal → gated task start (recorded by the engine), p50 | ${showMs(signal)} | ${showMs(o((r) => r.jobStart))} (add_job → start) | ${o((r) => r.recorded / r.jobStart).median.toFixed(2)}× |
| SetSignal → the start seen on a WatchExecution stream, p50 | ${showMs(o((r) => r.seen))} | | |
| ${MAP_SIZE.toLocaleString("en")} \`echo\` elements (map task, parallelism ${CONCURRENCY}) / jobs (one add_jobs call), end to end | ${showPerSecond(perSecond((r) => r.map))} | ${showPerSecond(perSecond((r) => r.bulk))} | ${ratioOf((r) => r.map)} |
| the same map without a parallelism (Petrel's default: \`echo\` elements hold no slot) | ${showPerSecond(perSecond((r) => r.mapDefault))} | | ${ratioOf((r) => r.mapDefault)} |

- The task's start is its node's \`started_at\` (set by the engine, millisecond resolution, same clock as the
  client); seeing it on a watch stream adds the rest of the evaluation, its commit and the stream's delivery.
- The map runs until the execution's terminal phase reaches the watch stream; the jobs until the last job's
  completion (its row's DELETE) is committed.

${target(`SetSignal → gated task start p50 ≤ 10 ms: ${fmtMs(signal.median)}`, signal.median <= 10)}`;
  writeSection("Control flow: signals and map tasks", body);
  console.log(body);
} finally {
  await graphile?.stop();
  await bench.stop();
}
