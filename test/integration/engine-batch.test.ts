// The engine evaluates many executions in one transaction: executions queued while no engine ran are locked,
// evaluated and written together (one lock statement, one write statement), and when one of them cannot be
// evaluated the others still finish (each is evaluated on its own then).
import { afterEach, describe, expect, it } from "vitest";
import {
  NodeExecution_Phase,
  TaskExecution_Phase,
  WorkflowExecution_Phase,
} from "../../gen/flyteidl/core/execution_pb.js";
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
import { eventually } from "../support/eventually.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const P = { project: "flytesnacks", domain: "development" };
const COUNT = 24;
let database: TestDatabase | undefined;
const servers: TestServer[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await s.server.stop(2_000);
  await database?.drop();
  database = undefined;
});

/** Queues COUNT executions of a two-node echo chain while the engine is off; returns the server (engine off). */
async function queueExecutions(): Promise<TestServer> {
  database = await createTestDatabase();
  const t = await startTestServer({ database, env: { PETREL_ENGINE: "off" } });
  servers.push(t);
  await t.admin.registerProject({ project: { id: P.project, name: P.project } });
  await t.admin.createTask({
    id: taskId("echo"),
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  const template = workflowTemplate({
    inputs: { x: intType() },
    outputs: { o: intType() },
    nodes: [
      taskNode("n0", taskId("echo"), [bind("a", "", "x")]),
      taskNode("n1", taskId("echo"), [bind("a", "n0", "a")]),
    ],
    outputBindings: [bind("o", "n1", "a")],
  });
  await t.admin.createWorkflow({ id: workflowId("chain"), spec: { template } });
  await t.admin.createLaunchPlan({ id: launchPlanId("chain"), spec: { workflowId: workflowId("chain") } });
  await Promise.all(
    Array.from({ length: COUNT }, (_, i) =>
      t.admin.createExecution({
        ...P,
        name: `e${i}`,
        spec: { launchPlan: launchPlanId("chain") },
        inputs: { literals: { x: literalInt(i) } },
      }),
    ),
  );
  return t;
}

/** Starts a server with the engine on the queued database. */
async function startEngine(): Promise<TestServer> {
  const t = await startTestServer({ ...(database !== undefined ? { database } : {}) });
  servers.push(t);
  return t;
}

async function phases(t: TestServer): Promise<WorkflowExecution_Phase[]> {
  return Promise.all(
    Array.from(
      { length: COUNT },
      async (_, i) => (await t.admin.getExecution({ id: { ...P, name: `e${i}` } })).closure?.phase ?? 0,
    ),
  );
}

describe("evaluating executions together", () => {
  it("locks, evaluates and writes queued executions in shared statements, each with its own results", async () => {
    const queued = await queueExecutions();
    await queued.server.stop(2_000);
    servers.splice(0);
    const t = await startEngine();
    await eventually(
      () => phases(t),
      (ps) => ps.every((p) => p === WorkflowExecution_Phase.SUCCEEDED),
    );
    for (let i = 0; i < COUNT; i += 7) {
      const id = { ...P, name: `e${i}` };
      expect((await t.admin.getExecutionData({ id })).fullOutputs?.literals.o).toEqual(literalInt(i));
      const nodes = await t.admin.listNodeExecutions({ workflowExecutionId: id, limit: 10 });
      expect(nodes.nodeExecutions.map((n) => [n.id?.nodeId, n.closure?.phase])).toEqual([
        ["n0", NodeExecution_Phase.SUCCEEDED],
        ["n1", NodeExecution_Phase.SUCCEEDED],
      ]);
      for (const nodeId of ["n0", "n1"]) {
        const attempts = await t.admin.listTaskExecutions({
          nodeExecutionId: { nodeId, executionId: id },
          limit: 5,
        });
        expect(attempts.taskExecutions.map((a) => [a.id?.retryAttempt, a.closure?.phase])).toEqual([
          [0, TaskExecution_Phase.SUCCEEDED],
        ]);
      }
      const n1 = await t.admin.getNodeExecutionData({ id: { nodeId: "n1", executionId: id } });
      expect(n1.fullInputs?.literals.a).toEqual(literalInt(i));
    }
    // The engine's first claim took every queued execution: all their node and task rows were written by one
    // transaction (created_at is the transaction's start time).
    const r = (await t.server.db.raw(
      `SELECT (SELECT count(*) FROM node_executions) AS nodes,
              (SELECT count(DISTINCT created_at) FROM node_executions) AS node_txns,
              (SELECT count(DISTINCT created_at) FROM task_executions) AS task_txns`,
    )) as { rows: { nodes: string; node_txns: string; task_txns: string }[] };
    expect(r.rows[0]).toEqual({ nodes: String(2 * COUNT), node_txns: "1", task_txns: "1" });
  });

  it("finishes the others when one execution cannot be evaluated", async () => {
    const queued = await queueExecutions();
    // e3's stored inputs are corrupt: decoding them fails inside the shared transaction.
    const broken = (await queued.admin.getExecution({ id: { ...P, name: "e3" } })).closure;
    expect(broken).toBeDefined();
    await queued.server.db.raw(
      `UPDATE data_blobs SET data = '\\x0aff'::bytea
        WHERE uri = (SELECT inputs_uri FROM executions WHERE execution_name = 'e3')`,
    );
    await queued.server.stop(2_000);
    servers.splice(0);
    const t = await startEngine();
    const done = await eventually(
      () => phases(t),
      (ps) => ps.filter((p) => p === WorkflowExecution_Phase.SUCCEEDED).length === COUNT - 1,
    );
    expect(done[3]).not.toBe(WorkflowExecution_Phase.SUCCEEDED);
    const e4 = await t.admin.getExecutionData({ id: { ...P, name: "e4" } });
    expect(e4.fullOutputs?.literals.o).toEqual(literalInt(4));
  });
});
