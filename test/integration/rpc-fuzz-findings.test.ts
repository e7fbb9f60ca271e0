// What the rpc fuzz (rpc-fuzz.test.ts) found, pinned over the real server: node ids that would leave a task's work
// directory, gates no signal could ever open, and event keys too large for the database's indexes are
// INVALID_ARGUMENT naming the field, and nothing of them is stored.
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NodeExecution_Phase as N,
  TaskExecution_Phase as T,
  WorkflowExecution_Phase as W,
} from "../../gen/flyteidl/core/execution_pb.js";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
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
import { waitDone } from "../support/fuzz-seed.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
let events: TestServer;
const P = { project: "flytesnacks", domain: "development" };

beforeAll(async () => {
  [t, events] = await Promise.all([startTestServer(), startTestServer({ env: { PETREL_ENGINE: "off" } })]);
  for (const s of [t, events]) {
    await s.admin.registerProject({ project: { id: P.project, name: P.project } });
    await s.admin.createTask({
      id: taskId("add"),
      spec: {
        template: taskTemplate({
          inputs: { a: intType() },
          outputs: { o: intType() },
          command: ["sh", "-c", "echo {{.inputs.a}} > {{.outputPrefix}}/o"],
        }),
      },
    });
  }
});
afterAll(async () => {
  await Promise.all([t?.stop(), events?.stop()]);
});

const wf = (nodeId: string) =>
  workflowTemplate({
    inputs: { a: intType() },
    outputs: { o: intType() },
    nodes: [taskNode(nodeId, taskId("add"), [bind("a", "", "a")])],
    outputBindings: [bind("o", nodeId, "o")],
  });

describe("node ids", () => {
  it("that are paths, too long for a directory name or hold control characters are refused", async () => {
    const cases: [string, string][] = [
      ["../../../../tmp/petrel-escape", 'a node id cannot contain "/" or "\\"'],
      ["..", 'a node id cannot be ".."'],
      ["n".repeat(300), "a node id cannot exceed 255 bytes"],
      ["tab\tid", "a node id cannot contain control characters"],
    ];
    for (const [i, [id, why]] of cases.entries()) {
      const err = await expectCode(
        t.admin.createWorkflow({ id: workflowId(`bad-node-${i}`), spec: { template: wf(id) } }),
        Code.InvalidArgument,
      );
      expect(err.rawMessage).toContain(`Code: InvalidValue`);
      expect(err.rawMessage).toContain(why);
      await expectCode(t.admin.getWorkflow({ id: workflowId(`bad-node-${i}`) }), Code.NotFound);
    }
  });

  it("that are plain names still register and run", async () => {
    await t.admin.createWorkflow({ id: workflowId("good-node"), spec: { template: wf("my-node_1.x") } });
    await t.admin.createLaunchPlan({
      id: launchPlanId("good-node"),
      spec: { workflowId: workflowId("good-node") },
    });
    await t.admin.createExecution({
      ...P,
      name: "good-node",
      spec: { launchPlan: launchPlanId("good-node") },
      inputs: { literals: { a: literalInt(4) } },
    });
    expect((await waitDone(t, "good-node")).closure?.phase).toBe(W.SUCCEEDED);
  });
});

describe("gates", () => {
  const gate = (signalId: string) =>
    workflowTemplate({
      nodes: [
        create(NodeSchema, {
          id: "g",
          target: { case: "gateNode", value: { condition: { case: "approve", value: { signalId } } } },
        }),
      ],
    });

  it("need a signal id the signal rpcs accept", async () => {
    await expectCode(
      t.admin.createWorkflow({ id: workflowId("no-signal"), spec: { template: gate("") } }),
      Code.InvalidArgument,
      /Code: ValueRequired, Node Id: g, Description: Value required \[gate_node\.approve\.signal_id\]\./,
    );
    await expectCode(
      t.admin.createWorkflow({ id: workflowId("long-signal"), spec: { template: gate("s".repeat(256)) } }),
      Code.InvalidArgument,
      /a signal id cannot exceed 255 characters/,
    );
    await t.admin.createWorkflow({ id: workflowId("ok-signal"), spec: { template: gate("go") } });
  });
});

describe("event keys", () => {
  const id = { ...P, name: "ev" };
  beforeAll(async () => {
    await events.admin.createExecution({
      ...id,
      spec: { launchPlan: taskId("add") },
      inputs: { literals: { a: literalInt(1) } },
    });
    await events.admin.createWorkflowEvent({
      event: { executionId: id, phase: W.RUNNING, occurredAt: timestampNow() },
    });
  });

  it("a node id beyond 255 characters is refused instead of failing the database's index", async () => {
    const nodeId = "n".repeat(100_000);
    await expectCode(
      events.admin.createNodeEvent({
        event: { id: { nodeId, executionId: id }, phase: N.RUNNING, occurredAt: timestampNow() },
      }),
      Code.InvalidArgument,
      "node_id cannot exceed 255 characters",
    );
    expect(
      (await events.admin.listNodeExecutions({ workflowExecutionId: id, limit: 10 })).nodeExecutions,
    ).toEqual([]);
  });

  it("a task event's task id follows Flyte's identifier rules and the limits of stored names", async () => {
    const nodeExecutionId = { nodeId: "n0", executionId: id };
    await events.admin.createNodeEvent({
      event: { id: nodeExecutionId, phase: N.RUNNING, occurredAt: timestampNow() },
    });
    const taskEvent = (taskIdentifier: ReturnType<typeof taskId>) =>
      events.admin.createTaskEvent({
        event: {
          taskId: taskIdentifier,
          parentNodeExecutionId: nodeExecutionId,
          phase: T.RUNNING,
          occurredAt: timestampNow(),
        },
      });
    await expectCode(
      taskEvent({ ...taskId("add"), project: "p".repeat(300) }),
      Code.InvalidArgument,
      "project cannot exceed 255 characters",
    );
    await expectCode(
      taskEvent({ ...taskId("add"), name: "x".repeat(100_000) }),
      Code.InvalidArgument,
      "name cannot exceed 255 characters",
    );
    await expectCode(taskEvent({ ...taskId("add"), version: "" }), Code.InvalidArgument, "missing version");
    await expectCode(
      taskEvent({ ...taskId("add"), resourceType: ResourceType.WORKFLOW }),
      Code.InvalidArgument,
      /^unexpected resource type workflow for identifier \[.*\], expected task instead$/,
    );
    expect((await events.admin.listTaskExecutions({ nodeExecutionId, limit: 10 })).taskExecutions).toEqual(
      [],
    );
    await taskEvent(taskId("add"));
    expect(
      (await events.admin.listTaskExecutions({ nodeExecutionId, limit: 10 })).taskExecutions,
    ).toHaveLength(1);
  });
});
