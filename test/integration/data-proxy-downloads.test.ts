// DataProxyService downloads over the real server: CreateDownloadLocation, CreateDownloadLink and GetData of a node's
// deck, each URL fetched as a client would, with FlyteAdmin's errors.
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeExecution_Phase as N } from "../../gen/flyteidl/core/execution_pb.js";
import { NodeExecutionIdentifierSchema } from "../../gen/flyteidl/core/identifier_pb.js";
import { ArtifactType } from "../../gen/flyteidl/service/dataproxy_pb.js";
import type { LocalBlobStore } from "../../server/storage/local-blob-store.js";
import { intType, literalInt, taskId, taskTemplate } from "../fixtures/flyte-builders.js";
import { DATA_PROXY_ENV, md5, P, storeOf } from "../support/data-proxy.js";
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
/** The server's local store, opened on its directory. */
let store: LocalBlobStore;

beforeAll(async () => {
  t = await startTestServer({ env: DATA_PROXY_ENV });
  const probe = await t.dataProxy.createUploadLocation({ ...P, contentMd5: md5(Buffer.from("probe")) });
  store = storeOf(probe.nativeUrl);
});
afterAll(async () => {
  await t?.stop();
});

describe("downloads", () => {
  it("CreateDownloadLocation: a signed GET streams the blob with its Content-Length; 404 when missing", async () => {
    const data = Buffer.from("download me");
    const uri = store.uri("flytesnacks", "development", "outputs", "d.txt");
    await store.put(uri, data);
    const loc = await t.dataProxy.createDownloadLocation({ nativeUrl: uri, expiresIn: { seconds: 60n } });
    const res = await fetch(loc.signedUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(data.length));
    expect(Buffer.from(await res.arrayBuffer())).toEqual(data);
    const head = await fetch(loc.signedUrl, { method: "HEAD" });
    expect({ status: head.status, length: head.headers.get("content-length") }).toEqual({
      status: 200,
      length: String(data.length),
    });
    const missing = await t.dataProxy.createDownloadLocation({ nativeUrl: store.uri("flytesnacks", "nope") });
    const gone = await fetch(missing.signedUrl);
    expect({ status: gone.status, text: await gone.text() }).toEqual({
      status: 404,
      text: "not found: no blob at this key\n",
    });
    await expectCode(
      t.dataProxy.createDownloadLocation({ nativeUrl: uri, expiresIn: { seconds: 3601n } }),
      Code.InvalidArgument,
      "error while validating request: expiresIn is invalid. Error: input duration [1h0m1s] cannot exceed max allowed expiration [1h0m0s]",
    );
    await expectCode(
      t.dataProxy.createDownloadLocation({ nativeUrl: "s3://elsewhere/x" }),
      Code.InvalidArgument,
      "error while validating request: native_url [s3://elsewhere/x] is not a blob of this store",
    );
  });

  it("CreateDownloadLink and GetData sign a node's deck, with FlyteAdmin's errors", async () => {
    await t.admin.registerProject({ project: { id: P.project, name: P.project } });
    await t.admin.createTask({
      id: taskId("deck-task"),
      spec: { template: taskTemplate({ inputs: { a: intType() }, outputs: { o: intType() } }) },
    });
    const executionId = { ...P, name: "deck-exec" };
    await t.admin.createExecution({
      ...executionId,
      spec: { launchPlan: taskId("deck-task") },
      inputs: { literals: { a: literalInt(1) } },
    });
    const node = (nodeId: string) => create(NodeExecutionIdentifierSchema, { nodeId, executionId });
    const deck = Buffer.from("<html>deck</html>");
    const deckUri = store.uri(
      "metadata",
      "propeller",
      "flytesnacks-development-deck-exec",
      "n0",
      "data",
      "0",
      "deck.html",
    );
    await store.put(deckUri, deck);
    const event = (nodeId: string, uri: string) =>
      t.admin.createNodeEvent({
        event: { id: node(nodeId), phase: N.RUNNING, occurredAt: timestampNow(), deckUri: uri },
      });
    await event("n0", deckUri);
    await event("n1", "");
    await event("n2", store.uri("metadata", "absent", "deck.html"));

    const link = (nodeId: string | undefined, artifactType = ArtifactType.DECK) =>
      t.dataProxy.createDownloadLink({
        artifactType,
        ...(nodeId === undefined
          ? {}
          : { source: { case: "nodeExecutionId" as const, value: node(nodeId) } }),
      });
    const ok = await link("n0");
    expect(ok.signedUrl).toEqual(ok.preSignedUrls?.signedUrl);
    const res = await fetch(ok.preSignedUrls?.signedUrl[0] ?? "");
    expect(Buffer.from(await res.arrayBuffer())).toEqual(deck);

    await expectCode(
      link("n0", ArtifactType.UNDEFINED),
      Code.InvalidArgument,
      "error while validating request. Error: invalid artifact type [ARTIFACT_TYPE_UNDEFINED]",
    );
    await expectCode(
      link(undefined),
      Code.InvalidArgument,
      "error while validating request. Error: source is required. Provided nil",
    );
    await expectCode(
      link("n9"),
      Code.InvalidArgument,
      /^failed to find node execution \[.*node_id:"n9".*\]\. Error: missing entity/,
    );
    await expectCode(link("n1"), Code.NotFound, /^no deckUrl found for request \[/);
    await expectCode(link("n2"), Code.NotFound, "object not found");

    const data = await t.dataProxy.getData({ flyteUrl: "flyte://v1/flytesnacks/development/deck-exec/n0/d" });
    expect(data.data.case).toBe("preSignedUrls");
    const url = data.data.case === "preSignedUrls" ? data.data.value.signedUrl[0] : "";
    expect(Buffer.from(await (await fetch(url ?? "")).arrayBuffer())).toEqual(deck);
    const nodeData = await t.admin.getNodeExecutionData({ id: node("n0") });
    expect(nodeData.flyteUrls?.deck).toBe("flyte://v1/flytesnacks/development/deck-exec/n0/d");
    expect((await t.admin.getNodeExecutionData({ id: node("n1") })).flyteUrls?.deck).toBe("");
  });
});
