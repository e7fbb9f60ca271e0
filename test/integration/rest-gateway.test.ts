// The REST gateway (/api/v1, as FlyteAdmin's grpc-gateway serves it) answers what gRPC answers, field by field.
import { createHash } from "node:crypto";
import { create, type DescMessage, equals, fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ExecutionCreateRequestSchema,
  ExecutionListSchema,
  ExecutionSchema,
  WorkflowExecutionGetDataResponseSchema,
} from "../../gen/flyteidl/admin/execution_pb.js";
import { NodeExecutionListSchema } from "../../gen/flyteidl/admin/node_execution_pb.js";
import { ProjectSchema, ProjectsSchema } from "../../gen/flyteidl/admin/project_pb.js";
import { SignalListSchema } from "../../gen/flyteidl/admin/signal_pb.js";
import { TaskCreateRequestSchema, TaskListSchema, TaskSchema } from "../../gen/flyteidl/admin/task_pb.js";
import { GetVersionResponseSchema } from "../../gen/flyteidl/admin/version_pb.js";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { IdentifierSchema } from "../../gen/flyteidl/core/identifier_pb.js";
import { LiteralMapSchema } from "../../gen/flyteidl/core/literals_pb.js";
import { NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import { CreateUploadLocationResponseSchema } from "../../gen/flyteidl/service/dataproxy_pb.js";
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
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };

interface RestAnswer {
  readonly status: number;
  readonly json: Record<string, JsonValue>;
  readonly headers: Headers;
}

async function rest(
  method: string,
  path: string,
  body?: JsonValue,
  headers: Record<string, string> = {},
): Promise<RestAnswer> {
  const res = await fetch(`${t.httpBaseUrl}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === "" ? {} : JSON.parse(text), headers: res.headers };
}

/** The REST answer, read back as the message, equals the gRPC answer. */
function expectSame<S extends DescMessage>(
  schema: S,
  got: RestAnswer,
  grpc: Parameters<typeof equals<S>>[1],
) {
  expect(got.status).toBe(200);
  const asMessage = fromJson(schema, got.json);
  if (!equals(schema, asMessage, grpc))
    expect(got.json).toEqual(toJson(schema, grpc, { alwaysEmitImplicit: true }));
}

async function grpcError(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

const done = (name: string) =>
  eventually(
    () => t.admin.getExecution({ id: { ...P, name } }),
    (e) => [W.SUCCEEDED, W.FAILED, W.ABORTED].includes(e.closure?.phase ?? 0),
  );

beforeAll(async () => {
  t = await startTestServer();
  // Registered over REST: the body is the request in JSON.
  const reg = await rest("POST", "/api/v1/projects", { project: { id: "flytesnacks", name: "flytesnacks" } });
  expect(reg.status).toBe(200);
  for (const v of ["v1", "v2", "v3"]) {
    const req = create(TaskCreateRequestSchema, {
      id: taskId("echo", v),
      spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
    });
    const r = await rest("POST", "/api/v1/tasks", toJson(TaskCreateRequestSchema, req));
    expect(r.status).toBe(200);
  }
  const wf = workflowTemplate({
    inputs: { x: intType() },
    outputs: { o: intType() },
    nodes: [taskNode("n0", taskId("echo"), [bind("a", "", "x")])],
    outputBindings: [bind("o", "n0", "a")],
  });
  await t.admin.createWorkflow({ id: workflowId("chain"), spec: { template: wf } });
  await t.admin.createLaunchPlan({ id: launchPlanId("chain"), spec: { workflowId: workflowId("chain") } });
  const gate = create(NodeSchema, {
    id: "ask",
    target: {
      case: "gateNode",
      value: {
        condition: { case: "signal", value: { signalId: "go", type: intType(), outputVariableName: "o" } },
      },
    },
  });
  const waits = workflowTemplate({
    outputs: { o: intType() },
    nodes: [gate],
    outputBindings: [bind("o", "ask", "o")],
  });
  await t.admin.createWorkflow({ id: workflowId("waits"), spec: { template: waits } });
  await t.admin.createLaunchPlan({ id: launchPlanId("waits"), spec: { workflowId: workflowId("waits") } });
});
afterAll(async () => {
  await t?.stop();
});

describe("REST gateway", () => {
  it("projects, domains and version match gRPC", async () => {
    expectSame(
      ProjectSchema,
      await rest("GET", "/api/v1/projects/flytesnacks"),
      await t.admin.getProject({ id: "flytesnacks" }),
    );
    expectSame(
      ProjectsSchema,
      await rest("GET", "/api/v1/projects?limit=10"),
      await t.admin.listProjects({ limit: 10 }),
    );
    const version = await rest("GET", "/api/v1/version");
    expectSame(GetVersionResponseSchema, version, await t.admin.getVersion({}));
    const domains = await rest("GET", "/api/v1/domains");
    expect(domains.json.domains).toEqual(
      (await t.admin.getDomains({})).domains.map((d) => ({ id: d.id, name: d.name })),
    );
  });

  it("gets and lists tasks with limit, token, filters and sort_by from the query", async () => {
    const id = taskId("echo", "v2");
    expectSame(
      TaskSchema,
      await rest("GET", `/api/v1/tasks/${P.project}/${P.domain}/echo/v2`),
      await t.admin.getTask({ id }),
    );
    const query = "limit=2&sort_by.key=version&sort_by.direction=ASCENDING";
    const first = await rest("GET", `/api/v1/tasks/${P.project}/${P.domain}/echo?${query}`);
    const grpcFirst = await t.admin.listTasks({
      id: { ...P, name: "echo" },
      limit: 2,
      sortBy: { key: "version", direction: 1 },
    });
    expectSame(TaskListSchema, first, grpcFirst);
    expect(grpcFirst.token).not.toBe("");
    const next = await rest(
      "GET",
      `/api/v1/tasks/${P.project}/${P.domain}/echo?${query}&token=${first.json.token}`,
    );
    const grpcNext = await t.admin.listTasks({
      id: { ...P, name: "echo" },
      limit: 2,
      token: grpcFirst.token,
      sortBy: { key: "version", direction: 1 },
    });
    expectSame(TaskListSchema, next, grpcNext);
    expect(grpcNext.tasks.map((x) => x.id?.version)).toEqual(["v3"]);
    // The filter separator '+' goes as %2B; the lowerCamel spelling of a field works too.
    const filters = encodeURIComponent("eq(version,v1)+eq(name,echo)");
    const filtered = await rest(
      "GET",
      `/api/v1/tasks/${P.project}/${P.domain}?limit=5&filters=${filters}&sortBy.key=version`,
    );
    const grpcFiltered = await t.admin.listTasks({
      id: P,
      limit: 5,
      filters: "eq(version,v1)+eq(name,echo)",
      sortBy: { key: "version" },
    });
    expectSame(TaskListSchema, filtered, grpcFiltered);
    expect(grpcFiltered.tasks).toHaveLength(1);
  });

  it("creates, gets and lists executions, node executions and their data", async () => {
    const req = create(ExecutionCreateRequestSchema, {
      ...P,
      name: "viarest",
      spec: { launchPlan: launchPlanId("chain") },
      inputs: { literals: { x: literalInt(7) } },
    });
    const created = await rest("POST", "/api/v1/executions", toJson(ExecutionCreateRequestSchema, req));
    expect(created.status).toBe(200);
    expect(created.json.id).toEqual({ ...P, name: "viarest", org: "" });
    await done("viarest");
    const id = { ...P, name: "viarest" };
    expectSame(
      ExecutionSchema,
      await rest("GET", "/api/v1/executions/flytesnacks/development/viarest"),
      await t.admin.getExecution({ id }),
    );
    expectSame(
      ExecutionListSchema,
      await rest("GET", "/api/v1/executions/flytesnacks/development?limit=5&filters=eq(phase,SUCCEEDED)"),
      await t.admin.listExecutions({ id: P, limit: 5, filters: "eq(phase,SUCCEEDED)" }),
    );
    expectSame(
      NodeExecutionListSchema,
      await rest("GET", "/api/v1/node_executions/flytesnacks/development/viarest?limit=10"),
      await t.admin.listNodeExecutions({ workflowExecutionId: id, limit: 10 }),
    );
    const data = await rest("GET", "/api/v1/data/executions/flytesnacks/development/viarest");
    expect(data.status).toBe(200);
    const grpcData = await t.admin.getExecutionData({ id });
    const restData = fromJson(WorkflowExecutionGetDataResponseSchema, data.json);
    expect(
      equals(
        LiteralMapSchema,
        restData.fullOutputs ?? create(LiteralMapSchema),
        grpcData.fullOutputs ?? create(LiteralMapSchema),
      ),
    ).toBe(true);
    expect(
      equals(
        LiteralMapSchema,
        restData.fullInputs ?? create(LiteralMapSchema),
        grpcData.fullInputs ?? create(LiteralMapSchema),
      ),
    ).toBe(true);
    expect(grpcData.fullOutputs?.literals.o).toBeDefined();
  });

  it("answers JSON as grpc-gateway writes it: proto names for application/json, int64 as strings, enums by name", async () => {
    const camel = await rest("GET", "/api/v1/executions/flytesnacks/development/viarest");
    const snake = await rest("GET", "/api/v1/executions/flytesnacks/development/viarest", undefined, {
      accept: "application/json",
    });
    const closure = snake.json.closure as Record<string, JsonValue>;
    expect(closure.phase).toBe("SUCCEEDED");
    expect(closure).toHaveProperty("created_at");
    expect(camel.json.closure as Record<string, JsonValue>).toHaveProperty("createdAt");
    // Defaults are written too.
    expect(snake.json.spec as Record<string, JsonValue>).toHaveProperty("max_parallelism");
    const tasks = await rest("GET", "/api/v1/tasks/flytesnacks/development/echo/v1", undefined, {
      accept: "application/json",
    });
    const meta = (
      (tasks.json.closure as Record<string, JsonValue>).compiled_task as Record<string, JsonValue>
    ).template as Record<string, JsonValue>;
    expect((meta.metadata as Record<string, JsonValue>).retries).toEqual({ retries: 0 });
  });

  it("lists and sets signals", async () => {
    await t.admin.createExecution({ ...P, name: "gated", spec: { launchPlan: launchPlanId("waits") } });
    const id = { ...P, name: "gated" };
    await eventually(
      () => t.signal.listSignals({ workflowExecutionId: id, limit: 10 }),
      (l) => l.signals.length > 0,
    );
    expectSame(
      SignalListSchema,
      await rest("GET", "/api/v1/signals/flytesnacks/development/gated?limit=10"),
      await t.signal.listSignals({ workflowExecutionId: id, limit: 10 }),
    );
    const set = await rest("POST", "/api/v1/signals", {
      id: { signalId: "go", executionId: id },
      value: { scalar: { primitive: { integer: "5" } } },
    });
    expect(set.status).toBe(200);
    const e = await done("gated");
    expect(e.closure?.phase).toBe(W.SUCCEEDED);
  });

  it("creates an upload location through the data proxy", async () => {
    const md5 = createHash("md5").update("hello").digest("base64");
    const r = await rest("POST", "/api/v1/dataproxy/artifact_urn", {
      ...P,
      filename: "a.txt",
      contentMd5: md5,
    });
    expect(r.status).toBe(200);
    const got = fromJson(CreateUploadLocationResponseSchema, r.json);
    const grpc = await t.dataProxy.createUploadLocation({
      ...P,
      filename: "a.txt",
      contentMd5: Buffer.from(md5, "base64"),
    });
    expect(got.nativeUrl).toBe(grpc.nativeUrl);
    expect(got.signedUrl).toMatch(/^http/);
  });

  it("answers errors as google.rpc.Status with the gateway's HTTP status and gRPC's code and message", async () => {
    const missing = await rest("GET", "/api/v1/tasks/flytesnacks/development/nope/v1");
    const grpcMissing = await grpcError(t.admin.getTask({ id: taskId("nope") }));
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ code: Code.NotFound, message: grpcMissing.rawMessage, details: [] });
    const noLimit = await rest("GET", "/api/v1/tasks/flytesnacks/development");
    const grpcNoLimit = await grpcError(t.admin.listTasks({ id: P }));
    expect(noLimit.status).toBe(400);
    expect(noLimit.json).toEqual({
      code: Code.InvalidArgument,
      message: grpcNoLimit.rawMessage,
      details: [],
    });
    const exists = await rest("POST", "/api/v1/executions", {
      ...P,
      name: "viarest",
      spec: { launchPlan: toJson(IdentifierSchema, launchPlanId("chain")) },
      inputs: { literals: { x: { scalar: { primitive: { integer: "7" } } } } },
    });
    expect(exists.status).toBe(409);
    expect(exists.json.code).toBe(Code.AlreadyExists);
    const badBody = await rest("POST", "/api/v1/projects", { project: { id: 5 } });
    expect(badBody.status).toBe(400);
    expect(badBody.json.code).toBe(Code.InvalidArgument);
    const unknown = await rest("GET", "/api/v1/nothing/here");
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ code: Code.NotFound, message: "Not Found", details: [] });
    const verb = await rest("PATCH", "/api/v1/projects");
    expect(verb.status).toBe(405);
  });

  it("passes the request id on, and /healthcheck answers 200", async () => {
    const r = await rest("GET", "/api/v1/version", undefined, { "x-request-id": "rest-42" });
    expect(r.headers.get("x-request-id")).toBe("rest-42");
    const health = await fetch(`${t.httpBaseUrl}/healthcheck`);
    expect(health.status).toBe(200);
  });
});
