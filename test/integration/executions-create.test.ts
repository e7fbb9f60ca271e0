// Where CreateExecution and RecoverExecution check and write: nothing is written into an archived project, and a
// recovered execution reuses the nodes that succeeded.
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExecutionMetadata_ExecutionMode } from "../../gen/flyteidl/admin/execution_pb.js";
import { Project_ProjectState } from "../../gen/flyteidl/admin/project_pb.js";
import { NodeExecution_Phase, WorkflowExecution_Phase } from "../../gen/flyteidl/core/execution_pb.js";
import {
  bind,
  echoWorkflow,
  executionRequest,
  intType,
  launchPlanId,
  literalInt,
  registerEchoProject,
  registerWorkflow,
  taskId,
  taskNode,
  taskTemplate,
  waitDone,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { expectCode } from "../support/expect-error.js";
import { itInProcess } from "../support/external-server.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };

beforeAll(async () => {
  t = await startTestServer();
  await registerEchoProject(t.admin);
});
afterAll(async () => {
  await t?.stop();
});

describe("creating executions", () => {
  it("checks the project first, and again in the INSERT: nothing is written into an archived project", async () => {
    const S = { project: "shelved", domain: "development" };
    await registerEchoProject(t.admin, "shelved");
    await registerWorkflow(
      t.admin,
      workflowId("one", "v1", "shelved"),
      echoWorkflow(taskId("echo", "v1", "shelved")),
    );
    const launch = (name: string) =>
      t.admin.createExecution(
        executionRequest(launchPlanId("one", "v1", "shelved"), { x: literalInt(1) }, name),
      );
    await t.admin.updateProject({ id: "shelved", name: "shelved", state: Project_ProjectState.ARCHIVED });
    const inactive = await expectCode(
      launch("late"),
      Code.InvalidArgument,
      "project [shelved] is not active",
    );
    expect(inactive.details).toHaveLength(1);
    await expectCode(
      t.admin.createExecution({ ...S }),
      Code.InvalidArgument,
      "project [shelved] is not active",
    );
    await expectCode(
      t.admin.createExecution({ project: "ghost", domain: "development" }),
      Code.InvalidArgument,
      "failed to validate that project [ghost] and domain [development] are registered, err: [project [ghost] not found]",
    );
    await expectCode(
      t.admin.createExecution({ ...P, domain: "qa" }),
      Code.InvalidArgument,
      "domain [qa] is unrecognized by system",
    );
    await expectCode(t.admin.getExecution({ id: { ...S, name: "late" } }), Code.NotFound, /^missing entity/);
    await t.admin.updateProject({ id: "shelved", name: "shelved", state: Project_ProjectState.ACTIVE });
    await launch("late");
    expect((await waitDone(t.admin, "late", S)).closure?.phase).toBe(WorkflowExecution_Phase.SUCCEEDED);
  });

  // The flaky task reads a file on the server's machine.
  itInProcess(
    "recovers: nodes that succeeded are not re-run but reported RECOVERED with their outputs",
    async () => {
      await t.admin.createTask({
        id: taskId("flaky"),
        spec: {
          template: taskTemplate({
            inputs: { a: intType() },
            outputs: { o: intType() },
            command: ["sh", "-c", "test -f /tmp/petrel-recover-ok || exit 1; echo 7 > {{.outputPrefix}}/o"],
          }),
        },
      });
      const wf = workflowTemplate({
        inputs: { x: intType() },
        outputs: { o: intType() },
        nodes: [
          taskNode("first", taskId("echo"), [bind("a", "", "x")]),
          taskNode("second", taskId("flaky"), [bind("a", "first", "a")]),
        ],
        outputBindings: [bind("o", "second", "o")],
      });
      await registerWorkflow(t.admin, workflowId("recoverable"), wf);
      const { rmSync, writeFileSync } = await import("node:fs");
      rmSync("/tmp/petrel-recover-ok", { force: true });
      await t.admin.createExecution(
        executionRequest(launchPlanId("recoverable"), { x: literalInt(1) }, "to-recover"),
      );
      expect((await waitDone(t.admin, "to-recover")).closure?.phase).toBe(WorkflowExecution_Phase.FAILED);
      writeFileSync("/tmp/petrel-recover-ok", "");
      const res = await t.admin.recoverExecution({ id: { ...P, name: "to-recover" }, name: "recovered" });
      const done = await waitDone(t.admin, "recovered");
      rmSync("/tmp/petrel-recover-ok", { force: true });
      expect(done.closure?.phase).toBe(WorkflowExecution_Phase.SUCCEEDED);
      expect(done.spec?.metadata?.mode).toBe(ExecutionMetadata_ExecutionMode.RECOVERED);
      const nodes = await t.admin.listNodeExecutions({ workflowExecutionId: res.id, limit: 10 });
      expect(nodes.nodeExecutions.map((n) => [n.id?.nodeId, n.closure?.phase])).toEqual([
        ["first", NodeExecution_Phase.RECOVERED],
        ["second", NodeExecution_Phase.SUCCEEDED],
      ]);
      const firstAttempts = await t.admin.listTaskExecutions({
        nodeExecutionId: { nodeId: "first", executionId: res.id },
        limit: 10,
      });
      expect(firstAttempts.taskExecutions).toEqual([]);
    },
  );
});
