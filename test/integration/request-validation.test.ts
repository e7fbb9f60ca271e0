// Bad input is answered with INVALID_ARGUMENT naming the field — over Connect on the HTTP port (Connect's handler
// pipeline) and over plain gRPC on the gRPC port (the direct path) alike — and nothing of it is stored: NUL
// characters, undeclared enum values, out-of-range integers and durations, over-long names.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sort_Direction } from "../../gen/flyteidl/admin/common_pb.js";
import {
  type ExecutionMetadata_ExecutionMode,
  ExecutionState,
} from "../../gen/flyteidl/admin/execution_pb.js";
import { Project_ProjectState } from "../../gen/flyteidl/admin/project_pb.js";
import {
  NodeExecution_Phase as N,
  TaskExecution_Phase as T,
  WorkflowExecution_Phase as W,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { SimpleType } from "../../gen/flyteidl/core/types_pb.js";
import { NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import {
  intType,
  literalInt,
  literalString,
  simple,
  stringType,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
let connect: ReturnType<typeof createClient<typeof AdminService>>;
const P = { project: "flytesnacks", domain: "development" };
const NUL = "must not contain a NUL character (U+0000)";
const INT64_MAX = 2n ** 63n - 1n;
/** protobuf's largest Duration: 10,000 years. */
const MAX_SECONDS = 315_576_000_000n;
const THIRTY_DAYS = { seconds: 30n * 24n * 3600n };

/**
 * grpc-js undoes grpc-message's percent-encoding with decodeURI, which leaves reserved characters (`:`, `,`, `/`, `;`,
 * `+`) encoded as Connect's encodeURIComponent wrote them; the message on the wire is the full decoding.
 */
const grpcJsDetails = (err: grpc.ServiceError | undefined) => decodeURIComponent(err?.details ?? "");

type Method = Parameters<TestServer["grpcJs"]["unary"]>[0];
type Request<K extends Method> = MessageInitShape<(typeof AdminService)["method"][K]["input"]>;

/** The call fails with INVALID_ARGUMENT and `message` over Connect (HTTP port) and over grpc-js (gRPC port). */
async function refused<K extends Method>(method: K, request: Request<K>, message: string | RegExp) {
  const viaConnect = (connect[method] as unknown as (r: Request<K>) => Promise<unknown>)(request);
  await expectCode(viaConnect, Code.InvalidArgument, message);
  const err = (await t.grpcJs.unary(method, request).then(
    () => undefined,
    (e: unknown) => e,
  )) as grpc.ServiceError | undefined;
  expect(err, "expected the grpc-js call to fail").toBeDefined();
  expect(err?.code).toBe(Code.InvalidArgument);
  const details = grpcJsDetails(err);
  if (typeof message === "string") expect(details).toBe(message);
  else expect(details).toMatch(message);
}

beforeAll(async () => {
  t = await startTestServer();
  connect = createClient(
    AdminService,
    createConnectTransport({ baseUrl: t.httpBaseUrl, httpVersion: "1.1" }),
  );
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  await t.admin.createTask({
    id: taskId("echo"),
    spec: {
      template: taskTemplate({ type: "echo", inputs: { s: stringType() }, outputs: { s: stringType() } }),
    },
  });
});
afterAll(async () => {
  await t?.stop();
});

describe("NUL characters", () => {
  it("are refused in identifiers, names, descriptions, labels and filters, naming the field", async () => {
    await refused("registerProject", { project: { id: "nul", name: "a\0b" } }, `project.name ${NUL}`);
    await refused(
      "registerProject",
      { project: { id: "nul", name: "nul", labels: { values: { "a\0": "b" } } } },
      `keys of project.labels.values ${NUL}`,
    );
    await refused(
      "registerProject",
      { project: { id: "nul", name: "nul", labels: { values: { team: "x\0" } } } },
      `project.labels.values["team"] ${NUL}`,
    );
    await refused(
      "createTask",
      { id: taskId("bad\0name"), spec: { template: taskTemplate() } },
      `id.name ${NUL}`,
    );
    await refused("getExecution", { id: { ...P, name: "x\0" } }, `id.name ${NUL}`);
    await refused("listExecutions", { id: P, limit: 10, filters: "eq(name,a\0)" }, `filters ${NUL}`);
    expect((await t.admin.listProjects({})).projects.map((p) => p.id)).not.toContain("nul");
  });

  it("are refused deep inside a spec: workflow nodes and a task's custom Struct", async () => {
    const wf = workflowTemplate({ nodes: [taskNode("n\0", taskId("echo"))] });
    await refused(
      "createWorkflow",
      { id: workflowId("nul-wf"), spec: { template: wf } },
      `spec.template.nodes[0].id ${NUL}`,
    );
    const template = taskTemplate({ edit: (x) => (x.custom = { plugin: { args: ["ok", "no\0"] } }) });
    await refused(
      "createTask",
      { id: taskId("nul-custom"), spec: { template } },
      `spec.template.custom["plugin"]["args"][1] ${NUL}`,
    );
    await expectCode(t.admin.getTask({ id: taskId("nul-custom") }), Code.NotFound);
  });

  it("pass inside a string literal, which is stored as data and comes back unchanged", async () => {
    const id = { ...P, name: "nul-input" };
    await t.admin.createExecution({
      ...id,
      spec: { launchPlan: taskId("echo") },
      inputs: { literals: { s: literalString("a\0b") } },
    });
    const data = await t.admin.getExecutionData({ id });
    const s = data.fullInputs?.literals.s?.value;
    expect(s?.case === "scalar" && s.value.value.case === "primitive" && s.value.value.value.value).toEqual({
      case: "stringValue",
      value: "a\0b",
    });
  });
});

describe("enum values the protocol does not declare", () => {
  it("are refused on UpdateExecution and UpdateProject, and the stored state stays", async () => {
    const id = { ...P, name: "enum-state" };
    await t.admin.createExecution({
      ...id,
      spec: { launchPlan: taskId("echo") },
      inputs: { literals: { s: literalString("x") } },
    });
    await refused(
      "updateExecution",
      { id, state: 99 as ExecutionState },
      "invalid value for state: 99 is not a known ExecutionState",
    );
    expect((await t.admin.getExecution({ id })).closure?.stateChangeDetails?.state ?? 0).toBe(
      ExecutionState.EXECUTION_ACTIVE,
    );
    await refused(
      "updateProject",
      { id: "flytesnacks", state: 99 as Project_ProjectState },
      "invalid value for state: 99 is not a known Project.ProjectState",
    );
    expect((await t.admin.getProject({ id: "flytesnacks" })).state).toBe(Project_ProjectState.ACTIVE);
  });

  it("are refused in an execution's mode, a list's sort direction, a resource type and a simple type", async () => {
    await refused(
      "createExecution",
      {
        ...P,
        name: "enum-mode",
        spec: { launchPlan: taskId("echo"), metadata: { mode: 99 as ExecutionMetadata_ExecutionMode } },
      },
      "invalid value for spec.metadata.mode: 99 is not a known ExecutionMetadata.ExecutionMode",
    );
    await expectCode(t.admin.getExecution({ id: { ...P, name: "enum-mode" } }), Code.NotFound);
    await refused(
      "listExecutions",
      { id: P, limit: 10, sortBy: { key: "created_at", direction: 7 as Sort_Direction } },
      "invalid value for sort_by.direction: 7 is not a known Sort.Direction",
    );
    await refused(
      "getTask",
      { id: { ...taskId("echo"), resourceType: 42 as ResourceType } },
      "invalid value for id.resource_type: 42 is not a known ResourceType",
    );
    await refused(
      "createTask",
      {
        id: taskId("enum-simple"),
        spec: { template: taskTemplate({ inputs: { a: simple(99 as SimpleType) } }) },
      },
      'invalid value for spec.template.interface.inputs.variables["a"].type.simple: 99 is not a known SimpleType',
    );
    await expectCode(t.admin.getTask({ id: taskId("enum-simple") }), Code.NotFound);
  });

  it("let zero (UNSPECIFIED) values through, as flytekit sends them", async () => {
    const id = { ...P, name: "enum-zero" };
    await connect.createExecution({
      ...id,
      spec: { launchPlan: taskId("echo"), metadata: { mode: 0 } },
      inputs: { literals: { s: literalString("x") } },
    });
    await t.grpcJs.unary("updateExecution", { id, state: ExecutionState.EXECUTION_ACTIVE });
    expect((await t.admin.getExecution({ id })).spec?.metadata?.mode).toBe(0);
  });
});

describe("integers and durations out of range", () => {
  it("refuse a retry attempt beyond the integer column", async () => {
    const nodeExecutionId = { nodeId: "n0", executionId: { ...P, name: "whatever" } };
    await refused(
      "getTaskExecution",
      { id: { taskId: taskId("echo"), nodeExecutionId, retryAttempt: 4294967295 } },
      "invalid value for id.retry_attempt: 4294967295 is out of range (at most 2147483647)",
    );
  });

  it("refuse Durations outside protobuf's range anywhere in a spec", async () => {
    const range = /^invalid value for (.+): duration out of range \(seconds within ±315576000000, /;
    const withTimeout = (timeout: { seconds: bigint; nanos?: number }) =>
      taskTemplate({
        edit: (x) => {
          if (x.metadata !== undefined)
            x.metadata.timeout = { $typeName: "google.protobuf.Duration", nanos: 0, ...timeout };
        },
      });
    for (const timeout of [{ seconds: INT64_MAX }, { seconds: 1n, nanos: 2e9 }, { seconds: 1n, nanos: -1 }]) {
      await refused(
        "createTask",
        { id: taskId("huge-timeout"), spec: { template: withTimeout(timeout) } },
        range,
      );
    }
    const err = await expectCode(
      connect.createTask({
        id: taskId("huge-timeout"),
        spec: { template: withTimeout({ seconds: INT64_MAX }) },
      }),
      Code.InvalidArgument,
    );
    expect(err.rawMessage).toMatch(/^invalid value for spec\.template\.metadata\.timeout: /);
    await expectCode(t.admin.getTask({ id: taskId("huge-timeout") }), Code.NotFound);

    const gate = (seconds: bigint, timeout = { seconds: 0n }) =>
      create(NodeSchema, {
        id: "g",
        metadata: { name: "g", timeout },
        target: {
          case: "gateNode",
          value: { condition: { case: "sleep", value: { duration: { seconds } } } },
        },
      });
    await refused(
      "createWorkflow",
      { id: workflowId("huge-sleep"), spec: { template: workflowTemplate({ nodes: [gate(INT64_MAX)] }) } },
      /^invalid value for spec\.template\.nodes\[0\]\.gate_node\.sleep\.duration: duration out of range/,
    );
    await refused(
      "createWorkflow",
      {
        id: workflowId("huge-sleep"),
        spec: { template: workflowTemplate({ nodes: [gate(1n, { seconds: -INT64_MAX })] }) },
      },
      /^invalid value for spec\.template\.nodes\[0\]\.metadata\.timeout: duration out of range/,
    );
  });

  it("refuse a Timestamp outside protobuf's range", async () => {
    await refused(
      "createWorkflowEvent",
      {
        event: { executionId: { ...P, name: "x" }, phase: W.RUNNING, occurredAt: { seconds: INT64_MAX } },
      },
      /^invalid value for event\.occurred_at: timestamp out of range/,
    );
  });
});

describe("names and versions", () => {
  it("are at most 255 characters without control characters", async () => {
    const template = taskTemplate();
    await refused(
      "createTask",
      { id: taskId("n".repeat(256)), spec: { template } },
      "name cannot exceed 255 characters",
    );
    await refused(
      "createTask",
      { id: taskId("t", "v".repeat(256)), spec: { template } },
      "version cannot exceed 255 characters",
    );
    await refused(
      "createTask",
      { id: taskId("tab\tname"), spec: { template } },
      "name must not contain control characters",
    );
    await refused(
      "createWorkflow",
      { id: workflowId("wf", "v1\n"), spec: { template: workflowTemplate({ nodes: [] }) } },
      "version must not contain control characters",
    );
    await t.admin.createTask({ id: taskId("n".repeat(255), "é".repeat(255)), spec: { template } });
    expect((await t.admin.getTask({ id: taskId("n".repeat(255), "é".repeat(255)) })).id?.name).toHaveLength(
      255,
    );
    await refused(
      "createTask",
      { id: { ...taskId("t"), domain: "nowhere" }, spec: { template } },
      "domain [nowhere] is unrecognized by system",
    );
  });
});

describe("other stored keys", () => {
  it("signal ids, attribute workflows and execution tags are held to the same limit", async () => {
    const long = "x".repeat(256);
    const type = simple(SimpleType.BOOLEAN);
    await expectCode(
      t.signal.getOrCreateSignal({ id: { signalId: long, executionId: { ...P, name: "x" } }, type }),
      Code.InvalidArgument,
      "signal_id cannot exceed 255 characters",
    );
    await expectCode(
      t.signal.getOrCreateSignal({ id: { signalId: "s", executionId: { ...P, name: long } }, type }),
      Code.InvalidArgument,
      "name cannot exceed 255 characters",
    );
    await refused(
      "updateWorkflowAttributes",
      {
        attributes: {
          ...P,
          workflow: long,
          matchingAttributes: { target: { case: "executionQueueAttributes", value: { tags: ["q"] } } },
        },
      },
      "workflow cannot exceed 255 characters",
    );
    await refused(
      "createExecution",
      {
        ...P,
        name: "long-tag",
        spec: { launchPlan: taskId("echo"), tags: ["ok", long] },
        inputs: { literals: { s: literalString("x") } },
      },
      "tags cannot exceed 255 characters",
    );
    await expectCode(t.admin.getExecution({ id: { ...P, name: "long-tag" } }), Code.NotFound);
  });
});

describe("events while Petrel's engine runs executions", () => {
  it("are refused with FAILED_PRECONDITION, and the execution is left to the engine", async () => {
    const id = { ...P, name: "engine-owned" };
    await t.admin.createExecution({
      ...id,
      spec: { launchPlan: taskId("echo") },
      inputs: { literals: { s: literalString("x") } },
    });
    const message =
      "execution flytesnacks/development/engine-owned is run by Petrel's engine; events are accepted only when the engine is off";
    const at = { seconds: BigInt(Math.floor(Date.now() / 1000)) };
    await expectCode(
      t.admin.createWorkflowEvent({ event: { executionId: id, phase: W.ABORTED, occurredAt: at } }),
      Code.FailedPrecondition,
      message,
    );
    await expectCode(
      connect.createNodeEvent({
        event: { id: { nodeId: "n0", executionId: id }, phase: N.FAILED, occurredAt: at },
      }),
      Code.FailedPrecondition,
      message,
    );
    const err = (await t.grpcJs
      .unary("createTaskEvent", {
        event: {
          taskId: taskId("echo"),
          parentNodeExecutionId: { nodeId: "n0", executionId: id },
          phase: T.FAILED,
          occurredAt: at,
        },
      })
      .catch((e: unknown) => e)) as grpc.ServiceError;
    expect({ code: err.code, details: grpcJsDetails(err) }).toEqual({
      code: Code.FailedPrecondition,
      details: message,
    });
    const done = await eventually(
      () => t.admin.getExecution({ id }),
      (e) => e.closure?.phase === W.SUCCEEDED || e.closure?.phase === W.FAILED,
    );
    expect(done.closure?.phase).toBe(W.SUCCEEDED);
  });
});

describe("huge but valid durations", () => {
  it("a task timeout beyond Node's timer range neither fires at once nor overflows", async () => {
    const template = taskTemplate({
      inputs: { a: intType() },
      outputs: { o: intType() },
      command: ["sh", "-c", "sleep 0.3; echo {{.inputs.a}} > {{.outputPrefix}}/o"],
      edit: (x) => {
        if (x.metadata !== undefined)
          x.metadata.timeout = { $typeName: "google.protobuf.Duration", ...THIRTY_DAYS, nanos: 0 };
      },
    });
    await t.admin.createTask({ id: taskId("long-timeout"), spec: { template } });
    const id = { ...P, name: "long-timeout" };
    await t.admin.createExecution({
      ...id,
      spec: { launchPlan: taskId("long-timeout") },
      inputs: { literals: { a: literalInt(7) } },
    });
    const done = await eventually(
      () => t.admin.getExecution({ id }),
      (e) => e.closure?.phase === W.SUCCEEDED || e.closure?.phase === W.FAILED,
    );
    const result = done.closure?.outputResult;
    expect(result?.case === "error" ? result.value.message : "").toBe("");
    expect(done.closure?.phase).toBe(W.SUCCEEDED);
  });

  it("a sleep gate and a node timeout of 10,000 years wait instead of firing", async () => {
    const gate = create(NodeSchema, {
      id: "g",
      metadata: { name: "g", timeout: { seconds: MAX_SECONDS } },
      target: {
        case: "gateNode",
        value: {
          condition: { case: "sleep", value: { duration: { seconds: MAX_SECONDS, nanos: 999_999_999 } } },
        },
      },
    });
    await t.admin.createWorkflow({
      id: workflowId("long-sleep"),
      spec: { template: workflowTemplate({ nodes: [gate] }) },
    });
    await t.admin.createLaunchPlan({
      id: { ...workflowId("long-sleep"), resourceType: 3 },
      spec: { workflowId: workflowId("long-sleep") },
    });
    const id = { ...P, name: "long-sleep" };
    await t.admin.createExecution({
      ...id,
      spec: { launchPlan: { ...workflowId("long-sleep"), resourceType: 3 } },
    });
    const node = await eventually(
      () => t.admin.listNodeExecutions({ workflowExecutionId: id, limit: 10 }),
      (l) => l.nodeExecutions.some((n) => n.id?.nodeId === "g" && n.closure?.phase === N.RUNNING),
    );
    expect(node.nodeExecutions.find((n) => n.id?.nodeId === "g")?.closure?.phase).toBe(N.RUNNING);
    // A later evaluation (the terminate below) finds the gate still waiting: nothing fired or failed meanwhile.
    await t.admin.terminateExecution({ id, cause: "done waiting" });
    const done = await eventually(
      () => t.admin.getExecution({ id }),
      (e) =>
        e.closure?.phase === W.ABORTED || e.closure?.phase === W.FAILED || e.closure?.phase === W.SUCCEEDED,
    );
    expect(done.closure?.phase).toBe(W.ABORTED);
  });
});
