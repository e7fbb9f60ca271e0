// Every list path must be served by an index: EXPLAIN the exact SQL each list rpc runs on large tables.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sort_Direction } from "../../gen/flyteidl/admin/common_pb.js";
import { LaunchPlanState } from "../../gen/flyteidl/admin/launch_plan_pb.js";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import {
  bind,
  intType,
  launchPlanId,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { seedLaunchPlans, seedVersions } from "../support/seed.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };
const captured: { sql: string; bindings: unknown[] }[] = [];

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  await t.admin.createTask({
    id: taskId("t"),
    spec: { template: taskTemplate({ inputs: { a: intType() }, outputs: { o: intType() } }) },
  });
  const wf = workflowTemplate({
    inputs: { a: intType() },
    nodes: [taskNode("n0", taskId("t"), [bind("a", "", "a")])],
  });
  await t.admin.createWorkflow({ id: workflowId("w"), spec: { template: wf } });
  await t.admin.createLaunchPlan({ id: launchPlanId("l"), spec: { workflowId: workflowId("w") } });
  await t.admin.updateLaunchPlan({ id: launchPlanId("l"), state: LaunchPlanState.ACTIVE });
  await seedVersions(t.server.db, "tasks", { ...P, name: "t", version: "v1" }, 100_000, 500);
  await seedVersions(t.server.db, "workflows", { ...P, name: "w", version: "v1" }, 50_000, 500);
  await seedLaunchPlans(t.server.db, { ...P, name: "l", version: "v1" }, 50_000, 500);
  t.server.db.on("query", (q: { sql: string; bindings?: unknown[] }) => {
    if (q.sql.startsWith("select")) captured.push({ sql: q.sql, bindings: q.bindings ?? [] });
  });
}, 180_000);

afterAll(async () => {
  await t?.stop();
});

async function plan(call: () => Promise<unknown>): Promise<string> {
  captured.length = 0;
  await call();
  const q = captured.find((c) => c.sql.includes("__sort"));
  if (q === undefined) throw new Error("no list query captured");
  const sql = q.sql.replace(/\$(\d+)/g, "?");
  const rows = (await t.server.db.raw(`EXPLAIN ${sql}`, q.bindings as never)) as {
    rows: { "QUERY PLAN": string }[];
  };
  return rows.rows.map((r) => r["QUERY PLAN"]).join("\n");
}

const desc = { key: "created_at", direction: Sort_Direction.DESCENDING };

describe("list queries on large tables use indexes", () => {
  const cases: [string, () => Promise<unknown>][] = [
    [
      "ListTasks by name, newest first",
      () => t.admin.listTasks({ id: { ...P, name: "seed.7" }, limit: 100, sortBy: desc }),
    ],
    ["ListTasks in a project/domain", () => t.admin.listTasks({ id: P, limit: 100 })],
    ["ListTasks by version", () => t.admin.listTasks({ id: P, limit: 100, filters: "eq(version,v77)" })],
    [
      "ListTasks deep keyset page",
      async () => {
        const first = await t.admin.listTasks({ id: P, limit: 500 });
        captured.length = 0;
        await t.admin.listTasks({ id: P, limit: 100, token: first.token });
      },
    ],
    ["ListTaskIds", () => t.admin.listTaskIds({ ...P, limit: 100 })],
    [
      "ListWorkflows by name",
      () => t.admin.listWorkflows({ id: { ...P, name: "seed.3" }, limit: 10, sortBy: desc }),
    ],
    [
      "ListLaunchPlans by name",
      () => t.admin.listLaunchPlans({ id: { ...P, name: "seed.3" }, limit: 10, sortBy: desc }),
    ],
    ["ListActiveLaunchPlans", () => t.admin.listActiveLaunchPlans({ ...P, limit: 10 })],
    [
      "ListNamedEntities",
      () => t.admin.listNamedEntities({ resourceType: ResourceType.TASK, ...P, limit: 10 }),
    ],
  ];
  for (const [name, call] of cases) {
    it(name, async () => {
      const text = await plan(call);
      if (process.env.SHOW_PLANS) console.log(name, "\n", text);
      expect(text, text).not.toMatch(/Seq Scan on (tasks|workflows|launch_plans)/);
      expect(text).toMatch(/Index/);
    });
  }
});
