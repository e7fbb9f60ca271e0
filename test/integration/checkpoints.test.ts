// Checkpoints across retries: an attempt writes under {{.checkpointOutputPrefix}}, the next one reads it back under
// {{.prevCheckpointPrefix}} (flytekit's `current_context().checkpoint`); a first attempt gets `""`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { intType, literalInt, stringType, taskId, taskTemplate } from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  const script = [
    'echo "{{.prevCheckpointPrefix}}" > {{.outputPrefix}}/prev',
    "mkdir -p {{.checkpointOutputPrefix}}",
    "echo $((FLYTE_ATTEMPT_NUMBER + 40)) > {{.checkpointOutputPrefix}}/progress",
    'test "$FLYTE_ATTEMPT_NUMBER" -ge 1 || exit 1',
    "cat {{.prevCheckpointPrefix}}/progress > {{.outputPrefix}}/resumed",
  ].join(" && ");
  await t.admin.createTask({
    id: taskId("resumable"),
    spec: {
      template: taskTemplate({
        outputs: { resumed: intType(), prev: stringType() },
        command: ["sh", "-c", script],
        retries: 1,
      }),
    },
  });
});
afterAll(async () => {
  await t?.stop();
});

describe("checkpoints", () => {
  it("hand the checkpoint an attempt wrote to the next attempt", async () => {
    const id = { ...P, name: "resume" };
    await t.admin.createExecution({ ...id, spec: { launchPlan: taskId("resumable") } });
    const e = await eventually(
      () => t.admin.getExecution({ id }),
      (x) => [W.SUCCEEDED, W.FAILED].includes(x.closure?.phase ?? 0),
      30_000,
    );
    expect(e.closure?.phase, JSON.stringify(e.closure?.outputResult.value)).toBe(W.SUCCEEDED);
    const out = (await t.admin.getExecutionData({ id })).fullOutputs?.literals;
    // Attempt 0 wrote 40 and failed; attempt 1 read it from its previous checkpoint.
    expect(out?.resumed).toEqual(literalInt(40));
    const prev = out?.prev?.value;
    const text =
      prev?.case === "scalar" && prev.value.value.case === "primitive"
        ? prev.value.value.value.value.value
        : "";
    expect(String(text).trim()).toMatch(/resume-resumable-0\/_flytecheckpoints$/); // attempt 0's
  });
});
