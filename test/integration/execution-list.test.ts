// ListExecutions answers from list entries encoded once per version of their rows (execution-summaries.ts): a row
// changed by another replica is answered as it is now, on the next call; a page this replica has encoded at its
// rows' current versions costs one statement; and the answer is what the rows give.
import { equals } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExecutionSchema } from "../../gen/flyteidl/admin/execution_pb.js";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import {
  executionRequest,
  gateWorkflow,
  launchPlanId,
  literalInt,
  registerEchoProject,
  registerWorkflow,
  workflowId,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let a: TestServer;
let b: TestServer;
const P = { project: "flytesnacks", domain: "development" };
const NAMES = ["g0", "g1", "g2"];
const statements: string[] = [];
const named: string[] = [];

const listOnB = () => b.admin.listExecutions({ id: P, limit: 10 });
const phases = (list: Awaited<ReturnType<typeof listOnB>>) =>
  Object.fromEntries(list.executions.map((e) => [e.id?.name, e.closure?.phase]));

beforeAll(async () => {
  a = await startTestServer();
  // A second replica on the same database, running no engine: it only answers reads.
  b = await startTestServer({ database: a.database, env: { PETREL_ENGINE: "off" } });
  await registerEchoProject(a.admin);
  await registerWorkflow(a.admin, workflowId("gated"), gateWorkflow());
  for (const name of NAMES)
    await a.admin.createExecution(executionRequest(launchPlanId("gated"), { x: literalInt(1) }, name));
  await eventually(
    listOnB,
    (l) => l.executions.length === 3 && l.executions.every((e) => e.closure?.phase === W.RUNNING),
  );
  b.server.db.on("query", (q: { sql: string; options?: { name?: string } }) => {
    statements.push(q.sql);
    if (q.options?.name !== undefined) named.push(q.sql);
  });
}, 60_000);

afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

describe("ListExecutions", () => {
  it("reads a page it has encoded at its rows' current versions in one statement", async () => {
    statements.length = 0;
    const list = await listOnB();
    expect(phases(list)).toEqual({ g0: W.RUNNING, g1: W.RUNNING, g2: W.RUNNING });
    expect(statements.filter((s) => /executions/i.test(s))).toHaveLength(1);
  });

  it("answers a row another replica changed as it is now, reading only that row", async () => {
    await a.admin.terminateExecution({ id: { ...P, name: "g1" }, cause: "stop" });
    await eventually(
      () => a.admin.getExecution({ id: { ...P, name: "g1" } }),
      (e) => e.closure?.phase === W.ABORTED,
    );
    statements.length = 0;
    const list = await listOnB();
    expect(phases(list)).toEqual({ g0: W.RUNNING, g1: W.ABORTED, g2: W.RUNNING });
    const g1 = list.executions.find((e) => e.id?.name === "g1");
    expect(g1?.closure?.outputResult).toEqual({
      case: "abortMetadata",
      value: expect.objectContaining({ cause: "stop" }),
    });
    const reads = statements.filter((s) => /executions/i.test(s));
    expect(reads).toHaveLength(2);
    expect(reads[1]).toMatch(/id = ANY/);
  });

  it("answers each entry as GetExecution does, without the inputs, in the page's order", async () => {
    const list = await listOnB();
    expect(list.executions.map((e) => e.id?.name)).toEqual(["g2", "g1", "g0"]);
    for (const entry of list.executions) {
      const got = await b.admin.getExecution({ id: { ...P, name: entry.id?.name ?? "" } });
      if (got.spec !== undefined) got.spec.inputs = undefined;
      expect(equals(ExecutionSchema, entry, got)).toBe(true);
    }
  });

  it("runs a page without filters as a named prepared statement, and a filtered one as a plain statement", async () => {
    named.length = 0;
    statements.length = 0;
    await listOnB();
    const [page] = statements.filter((s) => /executions/i.test(s));
    expect(page).toBeDefined();
    expect(named).toContain(page);
    named.length = 0;
    statements.length = 0;
    const running = await b.admin.listExecutions({ id: P, limit: 10, filters: "eq(phase,RUNNING)" });
    expect(running.executions.map((e) => e.id?.name)).toEqual(["g2", "g0"]);
    expect(statements.filter((s) => /executions/i.test(s))).toHaveLength(1);
    expect(named).toHaveLength(0);
  });
});
