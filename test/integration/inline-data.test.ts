// The *GetData rpcs answer literal maps inline up to --max-inline-data-size and bigger ones as a signed URL with the
// size (FlyteAdmin's remoteData.maxSizeInBytes): flytekit downloads the URL when the inline map is empty.
import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { LiteralMapSchema } from "../../gen/flyteidl/core/literals_pb.js";
import { literalString, stringType, taskId, taskTemplate } from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const P = { project: "flytesnacks", domain: "development" };
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ env: { PETREL_MAX_INLINE_DATA_SIZE: "512" } });
  await t.admin.registerProject({ project: { id: P.project, name: P.project } });
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

async function run(name: string, s: string) {
  await t.admin.createExecution({
    ...P,
    name,
    spec: { launchPlan: taskId("echo") },
    inputs: { literals: { s: literalString(s) } },
  });
  return eventually(
    () => t.admin.getExecution({ id: { ...P, name } }),
    (e) => e.closure?.phase === W.SUCCEEDED,
  );
}

describe("data above the inline size", () => {
  it("is answered as a signed URL with its size; smaller data inline", async () => {
    const big = "x".repeat(2_000);
    const e = await run("big", big);
    const data = await t.admin.getExecutionData({ id: e.id });
    expect(data.fullInputs?.literals).toEqual({});
    expect(data.fullOutputs?.literals).toEqual({});
    for (const blob of [data.inputs, data.outputs]) {
      expect(Number(blob?.bytes)).toBeGreaterThan(2_000);
      const res = await fetch(blob?.url ?? "");
      expect(res.status).toBe(200);
      const map = fromBinary(LiteralMapSchema, new Uint8Array(await res.arrayBuffer()));
      expect(map.literals.s).toEqual(literalString(big));
    }
    const node = await t.admin.getNodeExecutionData({ id: { nodeId: "echo", executionId: e.id } });
    expect(node.fullOutputs?.literals).toEqual({});
    expect(node.outputs?.url).not.toBe("");

    const small = await run("small", "tiny");
    const inline = await t.admin.getExecutionData({ id: small.id });
    expect(inline.fullOutputs?.literals.s).toEqual(literalString("tiny"));
    expect(inline.outputs?.url).toBe("");
  });
});
