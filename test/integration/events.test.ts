// An external engine drives executions through the event rpcs (the built-in engine is off here: while it runs, the
// event rpcs are refused, see request-validation.test.ts).
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventFailureReasonSchema } from "../../gen/flyteidl/admin/event_pb.js";
import {
  NodeExecution_Phase as N,
  TaskExecution_Phase as T,
  WorkflowExecution_Phase as W,
} from "../../gen/flyteidl/core/execution_pb.js";
import { intType, literalInt, taskId, taskTemplate } from "../fixtures/flyte-builders.js";
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };
beforeAll(async () => {
  t = await startTestServer({ env: { PETREL_ENGINE: "off" } });
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  await t.admin.createTask({
    id: taskId("t"),
    spec: { template: taskTemplate({ inputs: { a: intType() }, outputs: { o: intType() } }) },
  });
});
afterAll(async () => {
  await t?.stop();
});

async function newExecution(name: string) {
  await t.admin.createExecution({
    ...P,
    name,
    spec: { launchPlan: taskId("t") },
    inputs: { literals: { a: literalInt(1) } },
  });
  return { ...P, name };
}

const wfEvent = (executionId: { project: string; domain: string; name: string }, phase: W) =>
  t.admin.createWorkflowEvent({ event: { executionId, phase, occurredAt: timestampNow() } });

describe("workflow events", () => {
  it("follow FlyteAdmin's decision table", async () => {
    const id = await newExecution("wf-events");
    expect((await t.admin.getExecution({ id })).closure?.phase).toBe(W.UNDEFINED);
    await wfEvent(id, W.QUEUED);
    await wfEvent(id, W.QUEUED); // a repeated QUEUED is accepted
    await wfEvent(id, W.RUNNING);
    await expectCode(
      wfEvent(id, W.RUNNING),
      Code.AlreadyExists,
      /^This phase RUNNING was already recorded for workflow execution /,
    );
    await expectCode(
      wfEvent(id, W.QUEUED),
      Code.FailedPrecondition,
      /^Cannot go from RUNNING to QUEUED for workflow execution /,
    );
    await wfEvent(id, W.SUCCEEDED);
    const e = await t.admin.getExecution({ id });
    expect(e.closure?.phase).toBe(W.SUCCEEDED);
    expect(e.closure?.startedAt).toBeDefined();
    await expectCode(wfEvent(id, W.SUCCEEDED), Code.AlreadyExists);
    const err = await expectCode(
      wfEvent(id, W.RUNNING),
      Code.FailedPrecondition,
      /^Invalid phase change from SUCCEEDED to RUNNING for workflow execution /,
    );
    const [detail] = err.findDetails(EventFailureReasonSchema);
    expect(detail?.reason).toMatchObject({
      case: "alreadyInTerminalState",
      value: { currentPhase: "SUCCEEDED" },
    });
  });

  it("refuse non-terminal phases while aborting", async () => {
    const id = await newExecution("wf-abort");
    await wfEvent(id, W.RUNNING);
    await t.admin.terminateExecution({ id, cause: "stop" });
    expect((await t.admin.getExecution({ id })).closure?.phase).toBe(W.ABORTING);
    await expectCode(
      wfEvent(id, W.SUCCEEDING),
      Code.FailedPrecondition,
      /^Invalid phase change from aborting to SUCCEEDING/,
    );
    await wfEvent(id, W.ABORTED);
    expect((await t.admin.getExecution({ id })).closure?.phase).toBe(W.ABORTED);
    await expectCode(wfEvent({ ...P, name: "ghost" }, W.RUNNING), Code.NotFound);
    await expectCode(
      t.admin.createWorkflowEvent({}),
      Code.InvalidArgument,
      "Workflow event handler was called without event",
    );
  });
});

describe("node and task events", () => {
  it("create rows on the first event and apply the rules after", async () => {
    const executionId = await newExecution("node-events");
    const nodeId = { nodeId: "n0", executionId };
    const nodeEvent = (phase: N) =>
      t.admin.createNodeEvent({ event: { id: nodeId, phase, occurredAt: timestampNow() } });
    const taskEvent = (phase: T, retryAttempt = 0, phaseVersion = 0) =>
      t.admin.createTaskEvent({
        event: {
          taskId: taskId("t"),
          parentNodeExecutionId: nodeId,
          retryAttempt,
          phase,
          phaseVersion,
          occurredAt: timestampNow(),
        },
      });
    await expectCode(
      taskEvent(T.RUNNING),
      Code.NotFound,
      "Failed to get existing node execution id: [n0] with err: entry not found",
    );
    await nodeEvent(N.RUNNING);
    await expectCode(
      nodeEvent(N.RUNNING),
      Code.AlreadyExists,
      /^This phase was already recorded RUNNING for /,
    );
    await taskEvent(T.RUNNING);
    await expectCode(
      taskEvent(T.RUNNING),
      Code.AlreadyExists,
      /^have already recorded task execution phase RUNNING \(version: 0\)/,
    );
    await taskEvent(T.RUNNING, 0, 1); // a higher phase version is an update
    await taskEvent(T.RETRYABLE_FAILED);
    await taskEvent(T.RUNNING, 1);
    await taskEvent(T.SUCCEEDED, 1);
    const err = await expectCode(
      taskEvent(T.RUNNING, 1, 5),
      Code.FailedPrecondition,
      /^invalid phase change from SUCCEEDED to RUNNING for task execution/,
    );
    expect(err.findDetails(EventFailureReasonSchema)[0]?.reason).toMatchObject({
      value: { currentPhase: "RUNNING" },
    });
    await nodeEvent(N.SUCCEEDED);
    await expectCode(
      nodeEvent(N.RUNNING),
      Code.FailedPrecondition,
      /^Invalid phase change from SUCCEEDED to RUNNING for node execution \d+$/,
    );
    const attempts = await t.admin.listTaskExecutions({ nodeExecutionId: nodeId, limit: 10 });
    expect(attempts.taskExecutions.map((a) => [a.id?.retryAttempt, a.closure?.phase])).toEqual([
      [0, T.RETRYABLE_FAILED],
      [1, T.SUCCEEDED],
    ]);
    const node = await t.admin.getNodeExecution({ id: nodeId });
    expect(node.closure?.phase).toBe(N.SUCCEEDED);
    expect(create(EventFailureReasonSchema).reason.case).toBeUndefined();
  });
});

describe("bad event input", () => {
  it("is refused naming the field, and nothing of it is stored", async () => {
    const executionId = await newExecution("bad-events");
    const nodeId = { nodeId: "n0", executionId };
    await t.admin.createNodeEvent({ event: { id: nodeId, phase: N.RUNNING, occurredAt: timestampNow() } });
    const taskEvent = (retryAttempt: number, phaseVersion: number, phase = T.RUNNING) =>
      t.admin.createTaskEvent({
        event: {
          taskId: taskId("t"),
          parentNodeExecutionId: nodeId,
          retryAttempt,
          phase,
          phaseVersion,
          occurredAt: timestampNow(),
        },
      });
    await expectCode(
      taskEvent(4294967295, 0),
      Code.InvalidArgument,
      "invalid value for event.retry_attempt: 4294967295 is out of range (at most 2147483647)",
    );
    await expectCode(
      taskEvent(0, 4294967295),
      Code.InvalidArgument,
      "invalid value for event.phase_version: 4294967295 is out of range (at most 2147483647)",
    );
    await expectCode(
      taskEvent(0, 0, 42 as T),
      Code.InvalidArgument,
      "invalid value for event.phase: 42 is not a known TaskExecution.Phase",
    );
    await expectCode(
      t.admin.createNodeEvent({
        event: { id: { nodeId: "n\0", executionId }, phase: N.RUNNING, occurredAt: timestampNow() },
      }),
      Code.InvalidArgument,
      "event.id.node_id must not contain a NUL character (U+0000)",
    );
    await expectCode(
      t.admin.createWorkflowEvent({
        event: { executionId, phase: 77 as W, occurredAt: timestampNow() },
      }),
      Code.InvalidArgument,
      "invalid value for event.phase: 77 is not a known WorkflowExecution.Phase",
    );
    expect((await t.admin.listTaskExecutions({ nodeExecutionId: nodeId, limit: 10 })).taskExecutions).toEqual(
      [],
    );
    expect((await t.admin.getExecution({ id: executionId })).closure?.phase).toBe(W.UNDEFINED);
    // The largest values the columns hold are accepted.
    await taskEvent(2147483647, 2147483647);
    const [attempt] = (await t.admin.listTaskExecutions({ nodeExecutionId: nodeId, limit: 10 }))
      .taskExecutions;
    expect(attempt?.id?.retryAttempt).toBe(2147483647);
  });
});
