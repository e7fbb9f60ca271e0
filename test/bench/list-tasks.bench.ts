// ListTasks deep pages: keyset cursor at position 100,000 of 200,000 task versions vs page 1, and the OFFSET
// paging FlyteAdmin uses (numeric token) at the same position as the baseline, in alternating rounds.
// Run: npm run bench:list
import { intType, taskId, taskTemplate } from "../fixtures/flyte-builders.js";
import { seedVersions } from "../support/seed.js";
import { measure, type Stats, startBenchServer, writeSection } from "./bench-support.js";
import { over, scaled, showMs } from "./stats.js";

const TOTAL = scaled(200_000, 20_000);
const POSITION = TOTAL / 2;
const LIMIT = 100;
const ROUNDS = scaled(5, 2);
const PER_ROUND = scaled(40, 10);

const bench = await startBenchServer();
try {
  const { admin, server } = bench;
  const scope = { project: "bench", domain: "development" };
  await admin.registerProject({ project: { id: "bench", name: "bench" } });
  await admin.createTask({
    id: taskId("seed", "v0", "bench"),
    spec: { template: taskTemplate({ inputs: { a: intType() }, outputs: { o: intType() } }) },
  });
  await seedVersions(server.db, "tasks", { ...scope, name: "seed", version: "v0" }, TOTAL - 1, 1000);
  let token = "";
  for (let seen = 0; seen < POSITION; seen += 1000)
    token = (await admin.listTasks({ id: scope, limit: 1000, token })).token;
  interface Round {
    readonly first: Stats;
    readonly keyset: Stats;
    readonly offset: Stats;
  }
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    rounds.push({
      first: await measure(PER_ROUND, () => admin.listTasks({ id: scope, limit: LIMIT })),
      keyset: await measure(PER_ROUND, () => admin.listTasks({ id: scope, limit: LIMIT, token })),
      offset: await measure(PER_ROUND, () =>
        admin.listTasks({ id: scope, limit: LIMIT, token: String(POSITION) }),
      ),
    });
  }
  const a = await admin.listTasks({ id: scope, limit: LIMIT, token });
  const b = await admin.listTasks({ id: scope, limit: LIMIT, token: String(POSITION) });
  if (a.tasks[0]?.id?.version !== b.tasks[0]?.id?.version)
    throw new Error("keyset and offset pages disagree");
  const o = (f: (r: Round) => number) => over(rounds, f);
  const at = POSITION.toLocaleString("en");
  const line = (label: string, k: keyof Round) =>
    `| ${label} | ${showMs(o((r) => r[k].p50))} | ${showMs(o((r) => r[k].p99))} | ${showMs(o((r) => r[k].mean))} |`;
  const keysetVsFirst = o((r) => r.keyset.p50 / r.first.p50);
  const offsetVsKeyset = o((r) => r.offset.p50 / r.keyset.p50);
  const body = `Script: \`test/bench/list-tasks.bench.ts\` (\`npm run bench:list\`). ${TOTAL.toLocaleString("en")} versions of one project/domain
on the embedded Postgres, sorted by the default \`created_at DESC\`; ${ROUNDS} rounds alternate the three pages, ${PER_ROUND}
calls each per round after warm-up; medians of the rounds (range in parentheses).

| page (limit 100, over gRPC) | p50 | p99 | mean |
|---|---|---|---|
${line("first page", "first")}
${line(`keyset token at ${at}`, "keyset")}
${line(`OFFSET ${at} (baseline: FlyteAdmin's numeric token)`, "offset")}

- keyset at ${at} / first page (p50): **${keysetVsFirst.median.toFixed(2)}×** (${keysetVsFirst.min.toFixed(2)}–${keysetVsFirst.max.toFixed(2)}; target ≈ 1: a deep page costs what page 1 costs)
- OFFSET at ${at} / keyset at ${at} (p50): **${offsetVsKeyset.median.toFixed(1)}×** slower for the offset baseline (${offsetVsKeyset.min.toFixed(1)}–${offsetVsKeyset.max.toFixed(1)})`;
  writeSection("ListTasks: keyset vs OFFSET pagination", body);
  console.log(body);
} finally {
  await bench.stop();
}
