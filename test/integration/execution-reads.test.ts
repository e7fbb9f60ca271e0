// GetExecution calls that arrive together share statements (execution-reads.ts): each still gets its own execution,
// a missing one NOT_FOUND, and the shared statement reads through the executions key index.
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  echoWorkflow,
  executionRequest,
  launchPlanId,
  literalInt,
  registerEchoProject,
  registerWorkflow,
  workflowId,
} from "../fixtures/flyte-builders.js";
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };
const statements: string[] = [];

beforeAll(async () => {
  t = await startTestServer();
  await registerEchoProject(t.admin);
  await registerWorkflow(t.admin, workflowId("reads"), echoWorkflow());
  for (let i = 0; i < 6; i++)
    await t.admin.createExecution(executionRequest(launchPlanId("reads"), { x: literalInt(i) }, `r${i}`));
  t.server.db.on("query", (q: { sql: string }) => statements.push(q.sql));
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe("GetExecution together", () => {
  it("answers each call with its own execution, and NOT_FOUND for a missing one", async () => {
    statements.length = 0;
    const names = Array.from({ length: 60 }, (_, i) => (i % 10 === 9 ? `missing${i}` : `r${i % 6}`));
    const answers = await Promise.allSettled(
      names.map((name) => t.admin.getExecution({ id: { ...P, name } })),
    );
    answers.forEach((a, i) => {
      const name = names[i] as string;
      if (name.startsWith("missing")) {
        expect(a.status).toBe("rejected");
        return;
      }
      expect(a.status).toBe("fulfilled");
      if (a.status !== "fulfilled") return;
      expect(a.value.id?.name).toBe(name);
      expect(a.value.spec?.launchPlan?.name).toBe("reads");
      expect(a.value.closure?.createdAt).toBeDefined();
    });
    await expectCode(t.admin.getExecution({ id: { ...P, name: "missing" } }), Code.NotFound);
    // Fewer statements than calls: those that came while others were under way went together.
    const reads = statements.filter((s) => /from executions/i.test(s));
    expect(reads.some((s) => s.includes("unnest("))).toBe(true);
    expect(reads.length).toBeLessThan(names.length / 2);
  });

  it("reads the shared statement's executions through the key index", async () => {
    const sql = statements.find((s) => s.includes("unnest(")) as string;
    const plan = (await t.server.db.raw(`EXPLAIN ${sql.replace(/\$(\d+)/g, "?")}`, [
      ["r1", "r2"],
      [P.project, P.project],
      [P.domain, P.domain],
    ])) as { rows: { "QUERY PLAN": string }[] };
    const text = plan.rows.map((r) => r["QUERY PLAN"]).join("\n");
    expect(text).toMatch(/Index (Only )?Scan/);
    expect(text).not.toMatch(/Seq Scan on executions/);
  });
});
