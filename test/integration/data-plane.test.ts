// Files flow between tasks, against both blob stores: a file uploaded as flytekit uploads it (CreateUploadLocation,
// then a PUT to the signed URL) is a container task's Blob input; the task writes a file that becomes its Blob output
// under the raw-output prefix; a second task reads that file; the client downloads it (CreateDownloadLocation) and
// gets the bytes — also after a server restart. The engine's own data (inputs.pb, outputs.pb) is readable in the store
// at Flyte's layout.
import { createHash } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { type Literal, LiteralSchema } from "../../gen/flyteidl/core/literals_pb.js";
import { DataLoadingConfigSchema } from "../../gen/flyteidl/core/tasks_pb.js";
import { BlobType_BlobDimensionality, LiteralTypeSchema } from "../../gen/flyteidl/core/types_pb.js";
import { NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import { nodeInputsUri } from "../../server/storage/layout.js";
import {
  bind,
  collectionOf,
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
import { storeSubjects } from "../support/store-subjects.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const P = { project: "flytesnacks", domain: "development" };
const blobType = () =>
  create(LiteralTypeSchema, {
    type: { case: "blob", value: { format: "", dimensionality: BlobType_BlobDimensionality.SINGLE } },
  });
const blobLiteral = (uri: string): Literal =>
  create(LiteralSchema, {
    value: {
      case: "scalar",
      value: { value: { case: "blob", value: { uri, metadata: { type: { dimensionality: 0 } } } } },
    },
  });
const blobUri = (lit: Literal | undefined) =>
  lit?.value.case === "scalar" && lit.value.value.value.case === "blob"
    ? lit.value.value.value.value.uri
    : "";
const dataConfig = { enabled: true, inputPath: "/var/inputs", outputPath: "/var/outputs" };
const TEXT = "hello, petrel\n";

const subjects = storeSubjects();

describe.each(subjects)("the data plane on the $name store", (subject) => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({ env: await subject.env() });
    await t.admin.registerProject({ project: { id: P.project, name: P.project } });
    await t.admin.createTask({
      id: taskId("shout"),
      spec: {
        template: taskTemplate({
          inputs: { src: blobType() },
          outputs: { out: blobType() },
          command: ["sh", "-c", "tr a-z A-Z < /var/inputs/src > /var/outputs/out"],
          edit: (tt) => {
            if (tt.target.case === "container")
              tt.target.value.dataConfig = create(DataLoadingConfigSchema, dataConfig);
          },
        }),
      },
    });
    await t.admin.createTask({
      id: taskId("count"),
      spec: {
        template: taskTemplate({
          inputs: { f: blobType() },
          outputs: { n: intType() },
          command: ["sh", "-c", "wc -c < /var/inputs/f | tr -d ' ' > /var/outputs/n"],
          edit: (tt) => {
            if (tt.target.case === "container")
              tt.target.value.dataConfig = create(DataLoadingConfigSchema, dataConfig);
          },
        }),
      },
    });
    const wf = workflowTemplate({
      inputs: { x: blobType() },
      outputs: { out: blobType(), n: intType() },
      nodes: [
        taskNode("shout", taskId("shout"), [bind("src", "", "x")]),
        taskNode("count", taskId("count"), [bind("f", "shout", "out")]),
      ],
      outputBindings: [bind("out", "shout", "out"), bind("n", "count", "n")],
    });
    await t.admin.createWorkflow({ id: workflowId("files"), spec: { template: wf } });
    await t.admin.createLaunchPlan({ id: launchPlanId("files"), spec: { workflowId: workflowId("files") } });
  });

  afterAll(async () => {
    await t?.stop();
    await subject.stop();
  });

  /** flytekit's upload_file: CreateUploadLocation with the content MD5, then a PUT with the returned headers. */
  async function upload(bytes: Buffer, filename: string): Promise<string> {
    const md5 = createHash("md5").update(bytes).digest();
    const loc = await t.dataProxy.createUploadLocation({
      ...P,
      filename,
      contentMd5: md5,
      addContentMd5Metadata: true,
    });
    const res = await fetch(loc.signedUrl, {
      method: "PUT",
      body: bytes,
      headers: { "Content-MD5": md5.toString("base64"), ...loc.headers },
    });
    expect([200, 201]).toContain(res.status);
    return loc.nativeUrl;
  }

  async function download(uri: string): Promise<string> {
    const link = await t.dataProxy.createDownloadLocation({ nativeUrl: uri });
    const res = await fetch(link.signedUrl);
    expect(res.status).toBe(200);
    return res.text();
  }

  it("passes an uploaded file through two tasks and back to the client, also after a restart", async () => {
    expect(t.server.storageRoot).toMatch(
      subject.name === "S3" ? /^s3:\/\/petrel-test\/petrel$/ : /^file:\/\//,
    );
    const nativeUrl = await upload(Buffer.from(TEXT), "greeting.txt");
    expect(nativeUrl.startsWith(t.server.storageRoot)).toBe(true);
    await t.admin.createExecution({
      ...P,
      name: "files1",
      spec: { launchPlan: launchPlanId("files") },
      inputs: { literals: { x: blobLiteral(nativeUrl) } },
    });
    const done = await eventually(
      () => t.admin.getExecution({ id: { ...P, name: "files1" } }),
      (e) => e.closure?.phase === W.SUCCEEDED || e.closure?.phase === W.FAILED,
      30_000,
    );
    expect(done.closure?.phase, JSON.stringify(done.closure?.outputResult)).toBe(W.SUCCEEDED);
    const outputs = (await t.admin.getExecutionData({ id: done.id })).fullOutputs?.literals ?? {};
    const out = blobUri(outputs.out);
    // The file the first task wrote is kept under the raw-output prefix of the store.
    expect(out.startsWith(`${t.server.storageRoot}/raw/`)).toBe(true);
    expect(await download(out)).toBe(TEXT.toUpperCase());
    expect(
      outputs.n?.value.case === "scalar" && outputs.n.value.value.value.case === "primitive"
        ? outputs.n.value.value.value.value.value.value
        : undefined,
    ).toBe(BigInt(TEXT.length));
    t = await t.restart();
    expect(await download(out)).toBe(TEXT.toUpperCase());
  });

  it("writes raw data under the execution's raw_output_data_config, else the launch plan's", async () => {
    const nativeUrl = await upload(Buffer.from(TEXT), "greeting.txt");
    const lpPrefix = `${t.server.storageRoot}/lp-raw`;
    await t.admin.createLaunchPlan({
      id: launchPlanId("files-raw"),
      spec: { workflowId: workflowId("files"), rawOutputDataConfig: { outputLocationPrefix: lpPrefix } },
    });
    const runs = [
      [
        "raw-exec",
        { outputLocationPrefix: `${t.server.storageRoot}/exec-raw` },
        `${t.server.storageRoot}/exec-raw/`,
      ],
      ["raw-lp", { outputLocationPrefix: "" }, `${lpPrefix}/`], // an empty prefix does not count as set
    ] as const;
    for (const [name, raw, expected] of runs) {
      await t.admin.createExecution({
        ...P,
        name,
        spec: { launchPlan: launchPlanId("files-raw"), rawOutputDataConfig: raw },
        inputs: { literals: { x: blobLiteral(nativeUrl) } },
      });
      const done = await eventually(
        () => t.admin.getExecution({ id: { ...P, name } }),
        (e) => e.closure?.phase === W.SUCCEEDED || e.closure?.phase === W.FAILED,
        30_000,
      );
      expect(done.closure?.phase).toBe(W.SUCCEEDED);
      const out = blobUri((await t.admin.getExecutionData({ id: done.id })).fullOutputs?.literals.out);
      expect(out.startsWith(expected), out).toBe(true);
      expect(await download(out)).toBe(TEXT.toUpperCase());
    }
  });

  it("resolves offloaded literals where values are read: a raw container's inputs and an array's elements", async () => {
    await t.admin.createTask({
      id: taskId("inc"),
      spec: {
        template: taskTemplate({
          inputs: { n: intType() },
          outputs: { m: intType() },
          command: ["sh", "-c", "echo $(( $(cat /var/inputs/n) + 1 )) > /var/outputs/m"],
          edit: (tt) => {
            if (tt.target.case === "container")
              tt.target.value.dataConfig = create(DataLoadingConfigSchema, dataConfig);
          },
        }),
      },
    });
    const map = create(NodeSchema, {
      id: "map",
      inputs: [bind("n", "", "ns")],
      target: {
        case: "arrayNode",
        value: { node: taskNode("inc", taskId("inc")), isOriginalSubNodeInterface: true },
      },
    });
    const wf = workflowTemplate({
      inputs: { ns: collectionOf(intType()) },
      outputs: { ms: collectionOf(intType()) },
      nodes: [map],
      outputBindings: [bind("ms", "map", "m")],
    });
    await t.admin.createWorkflow({ id: workflowId("incs"), spec: { template: wf } });
    await t.admin.createLaunchPlan({ id: launchPlanId("incs"), spec: { workflowId: workflowId("incs") } });
    // The collection [1, 2, 3] stored as its own blob, as flytekit offloads a big output.
    const value = create(LiteralSchema, {
      value: { case: "collection", value: { literals: [literalInt(1), literalInt(2), literalInt(3)] } },
    });
    const bytes = Buffer.from(toBinary(LiteralSchema, value));
    const uri = await upload(bytes, "ns_offloaded_metadata.pb");
    const offloaded = create(LiteralSchema, {
      value: {
        case: "offloadedMetadata",
        value: { uri, sizeBytes: BigInt(bytes.length), inferredType: collectionOf(intType()) },
      },
    });
    await t.admin.createExecution({
      ...P,
      name: "incs1",
      spec: { launchPlan: launchPlanId("incs") },
      inputs: { literals: { ns: offloaded } },
    });
    const done = await eventually(
      () => t.admin.getExecution({ id: { ...P, name: "incs1" } }),
      (e) => e.closure?.phase === W.SUCCEEDED || e.closure?.phase === W.FAILED,
      30_000,
    );
    expect(done.closure?.phase, JSON.stringify(done.closure?.outputResult)).toBe(W.SUCCEEDED);
    const ms = (await t.admin.getExecutionData({ id: done.id })).fullOutputs?.literals.ms;
    expect(ms).toEqual(
      create(LiteralSchema, {
        value: { case: "collection", value: { literals: [literalInt(2), literalInt(3), literalInt(4)] } },
      }),
    );
  });

  it("keeps the engine's data in the store at Flyte's layout", async () => {
    const key = { ...P, name: "files1" };
    const inputs = nodeInputsUri(t.server.storageRoot, key, "shout");
    // Written after the commit that recorded it (by the blob materializer): readable soon after.
    const text = await eventually(
      () => download(inputs).catch(() => ""),
      (body) => body.length > 0,
    );
    expect(text.length).toBeGreaterThan(0);
  });
});
