// ListTasks deep pages: keyset cursor at position 100,000 of 200,000 task versions vs page 1, and the OFFSET
// paging FlyteAdmin uses (numeric token) at the same position as the baseline. Run: npm run bench:list
import { intType, taskId, taskTemplate } from "../fixtures/flyte-builders.js";
import { seedVersions } from "../support/seed.js";
import { measure, ms, startBenchServer, writeSection } from "./bench-support.js";

const TOTAL = 200_000;
const POSITION = 100_000;
const LIMIT = 100;
const ITERATIONS = 200;

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
  const first = await measure(ITERATIONS, () => admin.listTasks({ id: scope, limit: LIMIT }));
  const keyset = await measure(ITERATIONS, () => admin.listTasks({ id: scope, limit: LIMIT, token }));
  const offset = await measure(ITERATIONS, () =>
    admin.listTasks({ id: scope, limit: LIMIT, token: String(POSITION) }),
  );
  const a = await admin.listTasks({ id: scope, limit: LIMIT, token });
  const b = await admin.listTasks({ id: scope, limit: LIMIT, token: String(POSITION) });
  if (a.tasks[0]?.id?.version !== b.tasks[0]?.id?.version)
    throw new Error("keyset and offset pages disagree");
  const table = [
    "| page (limit 100, over gRPC) | p50 | p99 | mean |",
    "|---|---|---|---|",
    `| first page | ${ms(first.p50)} | ${ms(first.p99)} | ${ms(first.mean)} |`,
    `| keyset token at 100,000 | ${ms(keyset.p50)} | ${ms(keyset.p99)} | ${ms(keyset.mean)} |`,
    `| OFFSET 100,000 (baseline: FlyteAdmin's numeric token) | ${ms(offset.p50)} | ${ms(offset.p99)} | ${ms(offset.mean)} |`,
  ].join("\n");
  const body = `Script: \`test/bench/list-tasks.bench.ts\` (\`npm run bench:list\`). ${TOTAL.toLocaleString("en")} versions of one project/domain
on the embedded Postgres, sorted by the default \`created_at DESC\`; ${ITERATIONS} calls per row after warm-up.

${table}

- keyset at 100,000 / first page (p50): **${(keyset.p50 / first.p50).toFixed(2)}×** (target ≈ 1: a deep page costs what page 1 costs)
- OFFSET at 100,000 / keyset at 100,000 (p50): **${(offset.p50 / keyset.p50).toFixed(1)}×** slower for the offset baseline`;
  writeSection("ListTasks: keyset vs OFFSET pagination", body);
  console.log(body);
} finally {
  await bench.stop();
}
