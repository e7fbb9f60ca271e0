import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { ConfigError, loadConfig } from "../../server/config.js";
import { executionMetadataDirs } from "../../server/storage/layout.js";
import {
  echoWorkflow,
  executionRequest,
  gateWorkflow,
  launchPlanId,
  literalInt,
  literalString,
  registerEchoProject,
  registerWorkflow,
  workflowId,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const P = { project: "flytesnacks", domain: "development" };
const key = (name: string) => ({ ...P, name });
const MINUTE = 60_000;
let t: TestServer;

const start = (name: string, lp: string) =>
  t.admin.createExecution(executionRequest(launchPlanId(lp), { x: literalInt(7) }, name));

const settled = (name: string, phase: W) =>
  eventually(
    () => t.admin.getExecution({ id: key(name) }),
    (e) => e.closure?.phase === phase,
  );

/** The execution's blobs that still have a database copy. */
async function copies(name: string): Promise<number> {
  const dirs = executionMetadataDirs(t.server.storageRoot, key(name)).map((d) => `${d}/%`);
  const r = (await t.server.db.raw("SELECT count(*)::int AS n FROM data_blobs WHERE uri LIKE ANY(?)", [
    dirs,
  ])) as { rows: { n: number }[] };
  return r.rows[0]?.n ?? 0;
}

beforeAll(async () => {
  t = await startTestServer({ start: { retention: { batch: 2, intervalMs: 3_600_000, pauseMs: 1 } } });
  await registerEchoProject(t.admin);
  await registerWorkflow(t.admin, workflowId("one"), echoWorkflow());
  await registerWorkflow(t.admin, workflowId("gate"), gateWorkflow());
});

afterAll(async () => {
  await t?.stop();
});

describe("database copies of blobs", () => {
  it("are dropped a while after their execution finished, and its data is still served from the store", async () => {
    for (const name of ["done-1", "done-2", "done-3"]) await start(name, "one");
    await start("waiting", "gate");
    for (const name of ["done-1", "done-2", "done-3"]) await settled(name, W.SUCCEEDED);
    await settled("waiting", W.RUNNING);
    await eventually(
      async () => (await t.server.db("blob_outbox").count({ n: "*" }))[0]?.n,
      (n) => Number(n) === 0,
    );
    expect(await copies("done-1")).toBeGreaterThan(0);

    expect(await t.server.retention.pass()).toMatchObject({ trimmed: 0, deleted: 0 });
    expect(await copies("done-1")).toBeGreaterThan(0);

    // done-3 has a blob whose store copy is still to be written: it waits.
    const [inputs] = executionMetadataDirs(t.server.storageRoot, key("done-3"));
    await t.server.db("blob_outbox").insert({ uri: `${inputs}/inputs` });
    const later = () => new Date(Date.now() + 11 * MINUTE);
    expect(await t.server.retention.pass(later())).toMatchObject({ trimmed: 2, deleted: 0 });
    for (const name of ["done-1", "done-2"]) expect(await copies(name)).toBe(0);
    expect(await copies("done-3")).toBeGreaterThan(0);
    expect(await copies("waiting")).toBeGreaterThan(0);
    const data = await t.admin.getExecutionData({ id: key("done-2") });
    expect(data.fullOutputs?.literals.o).toEqual(literalInt(7));
    expect(data.fullInputs?.literals.x).toEqual(literalInt(7));
    const nodes = await t.admin.listNodeExecutions({ workflowExecutionId: key("done-2"), limit: 10 });
    const n0 = nodes.nodeExecutions.find((n) => n.id?.nodeId === "n0");
    const nodeData = await t.admin.getNodeExecutionData({ id: n0?.id });
    expect(nodeData.fullOutputs?.literals.a).toEqual(literalInt(7));

    // Executions passed unfinished are trimmed once they have finished (and their blobs are in the store).
    await t.server
      .db("blob_outbox")
      .where({ uri: `${inputs}/inputs` })
      .delete();
    await t.signal.setSignal({
      id: { signalId: "go", executionId: key("waiting") },
      value: literalString("ok"),
    });
    await settled("waiting", W.SUCCEEDED);
    await eventually(
      async () => (await t.server.db("blob_outbox").count({ n: "*" }))[0]?.n,
      (n) => Number(n) === 0,
    );
    expect(await t.server.retention.pass(later())).toMatchObject({ trimmed: 2 });
    for (const name of ["done-3", "waiting"]) expect(await copies(name)).toBe(0);
    expect((await t.admin.getExecutionData({ id: key("waiting") })).fullOutputs?.literals.o).toEqual(
      literalString("ok"),
    );
    expect(await t.server.retention.pass(later())).toMatchObject({ trimmed: 0 });
  });
});

describe("--retain-executions-days", () => {
  it("takes a whole number of days (0 keeps executions forever), from the flag or its variable", () => {
    expect(loadConfig([]).retainExecutionsDays).toBe(0);
    expect(loadConfig(["--retain-executions-days", "30"]).retainExecutionsDays).toBe(30);
    expect(loadConfig([], { PETREL_RETAIN_EXECUTIONS_DAYS: "7" }).retainExecutionsDays).toBe(7);
    expect(loadConfig(["--retain-executions-days=0"]).retainExecutionsDays).toBe(0);
  });

  it.each(["7d", "-1", "1.5", "abc", "100000"])("refuses %s with a clear error", (value) => {
    const flag = () => loadConfig(["--retain-executions-days", value]);
    expect(flag).toThrow(ConfigError);
    expect(flag).toThrow(
      `--retain-executions-days: "${value}" is not a number of days (a whole number up to 36500; 0 keeps executions forever)`,
    );
    expect(() => loadConfig([], { PETREL_RETAIN_EXECUTIONS_DAYS: value })).toThrow(
      /PETREL_RETAIN_EXECUTIONS_DAYS: ".*" is not a number of days/,
    );
  });
});
