import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MatchableResource,
  MatchingAttributesSchema,
} from "../../gen/flyteidl/admin/matchable_resource_pb.js";
import { Project_ProjectState } from "../../gen/flyteidl/admin/project_pb.js";
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
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };
const DUPLICATE = "value with matching already exists (duplicate execution)";

async function register(project: string) {
  await t.admin.registerProject({ project: { id: project, name: project } });
  await t.admin.createTask({
    id: taskId("echo", "v1", project),
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  const template = workflowTemplate({
    inputs: { x: intType() },
    outputs: { o: intType() },
    nodes: [taskNode("n0", taskId("echo", "v1", project), [bind("a", "", "x")])],
    outputBindings: [bind("o", "n0", "a")],
  });
  await t.admin.createWorkflow({ id: workflowId("one", "v1", project), spec: { template } });
  await t.admin.createLaunchPlan({
    id: launchPlanId("one", "v1", project),
    spec: { workflowId: workflowId("one", "v1", project) },
  });
}

const launch = (project: string, name: string, x: number, labels: Record<string, string> = {}) =>
  t.admin.createExecution({
    project,
    domain: "development",
    name,
    spec: { launchPlan: launchPlanId("one", "v1", project), labels: { values: labels } },
    inputs: { literals: { x: literalInt(x) } },
  });

const settle = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: unknown) => (e instanceof ConnectError ? `${Code[e.code]}: ${e.rawMessage}` : String(e)),
  );

beforeAll(async () => {
  t = await startTestServer();
  await register("flytesnacks");
  await register("shelved");
  await launch("flytesnacks", "taken", 0);
  await t.admin.updateProject({ id: "shelved", name: "shelved", state: Project_ProjectState.ARCHIVED });
});

afterAll(async () => {
  await t?.stop();
});

describe("concurrent CreateExecution", () => {
  it("shares INSERT statements, with each caller's own outcome, inputs and labels", async () => {
    let inserts = 0;
    const count = (q: { sql: string }) => {
      if (q.sql.includes("INSERT INTO executions")) inserts++;
    };
    t.server.db.on("query", count);
    const calls = [
      ...Array.from({ length: 30 }, (_, i) => ({ project: "flytesnacks", name: `b${i}`, x: i })),
      ...Array.from({ length: 4 }, (_, i) => ({ project: "flytesnacks", name: `twice${i}`, x: 100 + i })),
      ...Array.from({ length: 4 }, (_, i) => ({ project: "flytesnacks", name: `twice${i}`, x: 200 + i })),
      ...Array.from({ length: 3 }, (_, i) => ({ project: "shelved", name: `s${i}`, x: i })),
      { project: "flytesnacks", name: "taken", x: 1 },
    ];
    const results = await Promise.all(
      calls.map((c) => settle(launch(c.project, c.name, c.x, { call: `${c.name}-${c.x}` }))),
    );
    t.server.db.removeListener("query", count);
    expect(inserts).toBeLessThan(calls.length / 2);
    expect(results.slice(0, 30)).toEqual(Array(30).fill("ok"));
    for (let i = 0; i < 4; i++) {
      expect([results[30 + i], results[34 + i]].sort()).toEqual([`AlreadyExists: ${DUPLICATE}`, "ok"]);
    }
    expect(results.slice(38, 41)).toEqual(Array(3).fill("InvalidArgument: project [shelved] is not active"));
    expect(results[41]).toBe(`AlreadyExists: ${DUPLICATE}`);
    for (const [i, c] of calls.entries()) {
      if (results[i] !== "ok") continue;
      const id = { ...P, name: c.name };
      const [exec, data] = await Promise.all([
        t.admin.getExecution({ id }),
        t.admin.getExecutionData({ id }),
      ]);
      expect(exec.spec?.labels?.values).toEqual({ call: `${c.name}-${c.x}` });
      expect(data.fullInputs?.literals.x).toEqual(literalInt(c.x));
    }
  });

  it("sees matchable attributes changed through another replica", async () => {
    const config = (team: string) =>
      create(MatchingAttributesSchema, {
        target: { case: "workflowExecutionConfig", value: { labels: { values: { team } } } },
      });
    await t.admin.updateProjectDomainAttributes({
      attributes: { ...P, matchingAttributes: config("a") },
    });
    await launch("flytesnacks", "attrs-a", 1);
    // Another replica writes the table directly: this server's cache must not be trusted.
    await t.server
      .db("resource_attributes")
      .where({ ...P, workflow: "", resource_type: MatchableResource.WORKFLOW_EXECUTION_CONFIG })
      .update({ attributes: Buffer.from(toBinary(MatchingAttributesSchema, config("b"))) });
    await launch("flytesnacks", "attrs-b", 1);
    await t.server
      .db("resource_attributes")
      .where({ ...P, workflow: "", resource_type: MatchableResource.WORKFLOW_EXECUTION_CONFIG })
      .delete();
    await launch("flytesnacks", "attrs-none", 1);
    const labels = async (name: string) =>
      (await t.admin.getExecution({ id: { ...P, name } })).spec?.labels?.values;
    expect(await labels("attrs-a")).toEqual({ team: "a" });
    expect(await labels("attrs-b")).toEqual({ team: "b" });
    expect(await labels("attrs-none")).toEqual({});
    await expectCode(launch("flytesnacks", "attrs-a", 1), Code.AlreadyExists, DUPLICATE);
  });
});
