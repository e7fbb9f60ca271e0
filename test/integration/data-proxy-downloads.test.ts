// DataProxyService downloads over the real server: CreateDownloadLocation, CreateDownloadLink and GetData of a node's
// deck, each URL fetched as a client would, with FlyteAdmin's errors; and CreateDownloadLocation of a directory, whose
// signed listing (served by the HTTP port) names every blob under it with a signed GET, on both stores.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampNow } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeExecution_Phase as N } from "../../gen/flyteidl/core/execution_pb.js";
import { NodeExecutionIdentifierSchema } from "../../gen/flyteidl/core/identifier_pb.js";
import { ArtifactType } from "../../gen/flyteidl/service/dataproxy_pb.js";
import { MAX_LISTING_FILES } from "../../server/storage/blob-listing.js";
import type { LocalBlobStore } from "../../server/storage/local-blob-store.js";
import { HmacUrlSigner } from "../../server/storage/signed-urls.js";
import { intType, literalInt, taskId, taskTemplate } from "../fixtures/flyte-builders.js";
import { DATA_PROXY_ENV, md5, P, SIGNING_KEY, storeOf } from "../support/data-proxy.js";
import { expectCode } from "../support/expect-error.js";
import { storeSubjects } from "../support/store-subjects.js";
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

interface Listing {
  readonly format: string;
  readonly files: { readonly key: string; readonly size: number; readonly url: string }[];
}

/** A GET of a path as written (fetch would normalize `..` away): status and text. */
function rawGet(base: string, rawPath: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method: "GET", path: rawPath }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => {
        text += c.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end();
  });
}

const subjects = storeSubjects();

describe.each(subjects)("directory listings on the $name store", (subject) => {
  let server: TestServer;
  /** Signs as the server does (its key), for URLs the server would not hand out. */
  let signer: HmacUrlSigner;
  /** `<store root>/flytesnacks/development`, where the uploads below land. */
  let area: string;
  const files: Record<string, Buffer> = {
    "a.txt": Buffer.from("alpha\n"),
    "sub/b.bin": Buffer.from([0, 1, 2, 255]),
    "sub/deeper/c.txt": Buffer.from("gamma ".repeat(500)),
  };

  /** Puts a blob as flytekit does (CreateUploadLocation under a filename_root, then the signed PUT); its URI. */
  async function put(root: string, key: string, body: Buffer): Promise<string> {
    const loc = await server.dataProxy.createUploadLocation({
      ...P,
      filenameRoot: root,
      filename: key,
      contentMd5: md5(body),
    });
    const res = await fetch(loc.signedUrl, { method: "PUT", body, headers: { ...loc.headers } });
    expect(res.status).toBe(200);
    return loc.nativeUrl;
  }

  const keyOf = (uri: string) => uri.slice(uri.indexOf(`/${P.project}/`) + 1);

  beforeAll(async () => {
    server = await startTestServer({ env: { ...DATA_PROXY_ENV, ...(await subject.env()) } });
    signer = new HmacUrlSigner(Buffer.from(SIGNING_KEY));
    signer.setDefaultBaseUrl(server.httpBaseUrl);
    for (const [key, body] of Object.entries(files)) await put("DIR", key, body);
    // Neighbours: a sibling whose name starts like the directory's, and a blob beside it.
    const sibling = await put("DIRX", "y.txt", Buffer.from("not in DIR"));
    await put("OTHER", "DIR", Buffer.from("a blob named like a directory"));
    area = sibling.slice(0, -"/DIRX/y.txt".length);
  });
  afterAll(async () => {
    await server?.stop();
    await subject.stop();
  });

  it("CreateDownloadLocation of a directory signs its listing: every blob under it, its size and a signed GET", async () => {
    const dir = `${area}/DIR`;
    const loc = await server.dataProxy.createDownloadLocation({
      nativeUrl: dir,
      expiresIn: { seconds: 600n },
    });
    expect(loc.signedUrl.startsWith(`${server.httpBaseUrl}/api/v1/blob-listings/${keyOf(dir)}?`)).toBe(true);
    const res = await fetch(loc.signedUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    const text = await res.text();
    expect(text.startsWith('{"format":"petrel.blob-listing/v1",')).toBe(true);
    const listing = JSON.parse(text) as Listing;
    expect(listing.files.map((f) => [f.key, f.size])).toEqual(
      Object.entries(files).map(([k, b]) => [k, b.length]),
    );
    const expiresAt = timestampDate(loc.expiresAt ?? timestampNow()).getTime();
    for (const f of listing.files) {
      const got = await fetch(f.url);
      expect({ key: f.key, status: got.status }).toEqual({ key: f.key, status: 200 });
      expect(Buffer.from(await got.arrayBuffer())).toEqual(files[f.key]);
      // Each file's URL lasts as long as the listing's: Petrel's own (local) or S3's presigned one.
      const u = new URL(f.url);
      if (subject.name === "local") {
        expect(f.url.startsWith(`${server.httpBaseUrl}/api/v1/blobs/${keyOf(dir)}/`)).toBe(true);
        expect(Number(u.searchParams.get("expires"))).toBe(expiresAt);
      } else {
        expect(f.url.startsWith(`${subject.s3?.endpoint}/`)).toBe(true);
        const signedAt = (u.searchParams.get("X-Amz-Date") ?? "").replace(
          /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/,
          "$1-$2-$3T$4:$5:$6Z",
        );
        const until = Date.parse(signedAt) + Number(u.searchParams.get("X-Amz-Expires")) * 1000;
        expect(until).toBeGreaterThanOrEqual(expiresAt - 1000);
        expect(until).toBeLessThanOrEqual(expiresAt + 1000);
      }
    }
    // With a trailing `/` the URI names the directory only; a blob is still signed as a blob.
    const slashed = await server.dataProxy.createDownloadLocation({ nativeUrl: `${dir}/` });
    expect(((await (await fetch(slashed.signedUrl)).json()) as Listing).files).toHaveLength(3);
    const blob = await server.dataProxy.createDownloadLocation({ nativeUrl: `${area}/OTHER/DIR` });
    expect(await (await fetch(blob.signedUrl)).text()).toBe("a blob named like a directory");
    const nested = await server.dataProxy.createDownloadLocation({ nativeUrl: `${dir}/sub` });
    const sub = (await (await fetch(nested.signedUrl)).json()) as Listing;
    expect(sub.files.map((f) => f.key)).toEqual(["b.bin", "deeper/c.txt"]);
  });

  it("answers NOT_FOUND for a directory with nothing under it, and keeps FlyteAdmin's signed GET of a missing blob", async () => {
    await expectCode(
      server.dataProxy.createDownloadLocation({ nativeUrl: `${area}/NOPE/` }),
      Code.NotFound,
      `no blobs under directory [${area}/NOPE/]`,
    );
    // A file is no directory.
    await expectCode(
      server.dataProxy.createDownloadLocation({ nativeUrl: `${area}/DIR/a.txt/` }),
      Code.NotFound,
      `no blobs under directory [${area}/DIR/a.txt/]`,
    );
    const missing = await server.dataProxy.createDownloadLocation({ nativeUrl: `${area}/NOPE` });
    expect(missing.signedUrl).not.toContain("/api/v1/blob-listings/");
    expect((await fetch(missing.signedUrl)).status).toBe(404);
    await expectCode(
      server.dataProxy.createDownloadLocation({
        nativeUrl: `${area.slice(0, area.indexOf(`/${P.project}/`))}/`,
      }),
      Code.InvalidArgument,
      /^error while validating request: native_url \[.*\/\] is not a blob of this store$/,
    );
    // A listing signed for a directory that has (since) no blobs.
    const gone = await fetch(signer.signList(keyOf(`${area}/NOPE`), { expiresInMs: 60_000 }).url);
    expect({ status: gone.status, text: await gone.text() }).toEqual({
      status: 404,
      text: "not found: no blobs under this directory\n",
    });
  });

  it("refuses a listing URL with a wrong or expired signature, one signed for another method, and keys outside the store", async () => {
    const key = keyOf(`${area}/DIR`);
    const good = new URL(signer.signList(key, { expiresInMs: 60_000 }).url);
    expect((await fetch(good)).status).toBe(200);
    const refused = async (url: URL | string) => {
      const res = await fetch(url);
      return { status: res.status, text: await res.text() };
    };
    const mismatch = { status: 403, text: "forbidden: the signature does not match\n" };
    const tampered = new URL(good);
    // Its first character changed (every bit of it counts; the last character's low bits may not).
    const signature = good.searchParams.get("signature") ?? "";
    tampered.searchParams.set("signature", `${signature.startsWith("A") ? "B" : "A"}${signature.slice(1)}`);
    expect(await refused(tampered)).toEqual(mismatch);
    const later = new URL(good);
    later.searchParams.set("expires", String(Number(good.searchParams.get("expires")) + 1000));
    expect(await refused(later)).toEqual(mismatch);
    const elsewhere = new URL(good);
    elsewhere.pathname = elsewhere.pathname.replace(/\/DIR$/, "/DIRX");
    expect(await refused(elsewhere)).toEqual(mismatch);
    // GET and LIST signatures are not interchangeable, whichever path they are sent to.
    const asBlob = new URL(good);
    asBlob.pathname = asBlob.pathname.replace("/api/v1/blob-listings/", "/api/v1/blobs/");
    expect(await refused(asBlob)).toEqual(mismatch);
    const get = new URL(signer.signGet(key, { expiresInMs: 60_000 }).url);
    get.pathname = get.pathname.replace("/api/v1/blobs/", "/api/v1/blob-listings/");
    expect(await refused(get)).toEqual(mismatch);
    const put = new URL(signer.signPut(key, { expiresInMs: 60_000 }).url);
    put.pathname = put.pathname.replace("/api/v1/blobs/", "/api/v1/blob-listings/");
    expect(await refused(put)).toEqual(mismatch);
    // Expired a minute ago, signed with the server's key.
    const past = new HmacUrlSigner(Buffer.from(SIGNING_KEY), { now: () => Date.now() - 120_000 });
    past.setDefaultBaseUrl(server.httpBaseUrl);
    const expired = await refused(past.signList(key, { expiresInMs: 60_000 }).url);
    expect(expired).toMatchObject({
      status: 403,
      text: expect.stringMatching(/^forbidden: the URL expired at /),
    });
    expect(await refused(`${server.httpBaseUrl}/api/v1/blob-listings/${key}`)).toEqual({
      status: 403,
      text: "forbidden: the URL is not signed (missing expires or signature)\n",
    });
    // Keys that would leave the store (or name its own files) are refused whoever signed them.
    for (const p of ["../etc", "a/%2e%2e/b", "a%2Fb", "a//b", ".petrel-md5/x"]) {
      const res = await rawGet(
        server.httpBaseUrl,
        `/api/v1/blob-listings/${p}?expires=99999999999999&signature=x`,
      );
      expect({ p, status: res.status }).toEqual({ p, status: 400 });
    }
    expect(
      (await refused(signer.signList(".petrel-md5/flytesnacks", { expiresInMs: 60_000 }).url)).status,
    ).toBe(400);
    const post = await fetch(good, { method: "POST" });
    expect({ status: post.status, allow: post.headers.get("allow") }).toEqual({ status: 405, allow: "GET" });
  });

  // The limit does not depend on the store; files written straight into the local store keep this test fast.
  it.runIf(subject.name === "local")(
    `refuses a listing of more than ${MAX_LISTING_FILES} blobs with 422, naming the limit`,
    async () => {
      const local: LocalBlobStore = storeOf(`${area}/DIR/a.txt`);
      const big = path.join(local.dir, P.project, P.domain, "BIG");
      fs.mkdirSync(big, { recursive: true });
      for (let i = 0; i < MAX_LISTING_FILES; i++) fs.writeFileSync(path.join(big, `f${i}`), "x");
      const loc = await server.dataProxy.createDownloadLocation({ nativeUrl: `${area}/BIG` });
      const full = (await (await fetch(loc.signedUrl)).json()) as Listing;
      expect(full.files).toHaveLength(MAX_LISTING_FILES);
      fs.writeFileSync(path.join(big, "one-more"), "x");
      const res = await fetch(loc.signedUrl);
      expect({ status: res.status, text: await res.text() }).toEqual({
        status: 422,
        text: `unprocessable: the directory holds more than ${MAX_LISTING_FILES} blobs, the most one listing names; download its files one by one\n`,
      });
    },
  );
});
