// DataProxyService uploads over the real server: flytekit's upload flow (CreateUploadLocation, then a PUT of the bytes
// to the signed URL), FlyteAdmin's rules and texts, and every refusal of a signed PUT with its HTTP status. The local
// blob store is read directly to see what a task would read. Downloads: data-proxy-downloads.test.ts.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataProxyService } from "../../gen/flyteidl/service/dataproxy_pb.js";
import type { LocalBlobStore } from "../../server/storage/local-blob-store.js";
import { HmacUrlSigner } from "../../server/storage/signed-urls.js";
import { base32, DATA_PROXY_ENV, md5, P, SIGNING_KEY, storeOf } from "../support/data-proxy.js";
import { eventually } from "../support/eventually.js";
import { expectCode } from "../support/expect-error.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
let small: TestServer;
/** The server's local store, opened on its directory. */
let store: LocalBlobStore;

beforeAll(async () => {
  [t, small] = await Promise.all([
    startTestServer({ env: DATA_PROXY_ENV }),
    startTestServer({ env: { ...DATA_PROXY_ENV, PETREL_MAX_UPLOAD_SIZE: "1Mi" } }),
  ]);
  const probe = await t.dataProxy.createUploadLocation({ ...P, contentMd5: md5(Buffer.from("probe")) });
  store = storeOf(probe.nativeUrl);
});
afterAll(async () => {
  await Promise.all([t?.stop(), small?.stop()]);
});

/** flytekit's FlyteRemote.upload_file: CreateUploadLocation, then requests.put with its headers merged under ours. */
async function flytekitUpload(
  server: TestServer,
  data: Buffer,
  extra: { filename?: string; filenameRoot?: string },
) {
  const loc = await server.dataProxy.createUploadLocation({
    ...P,
    contentMd5: md5(data),
    filename: extra.filename ?? "data.csv",
    ...(extra.filenameRoot === undefined ? {} : { filenameRoot: extra.filenameRoot }),
    addContentMd5Metadata: true,
  });
  const res = await fetch(loc.signedUrl, {
    method: "PUT",
    body: data,
    headers: {
      "Content-Length": String(data.length),
      "Content-MD5": md5(data).toString("base64"),
      ...loc.headers,
    },
  });
  return { loc, res };
}

/** A request with a path sent exactly as given (fetch would normalize `..`). */
function rawRequest(
  port: number,
  method: string,
  rawPath: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: rawPath }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("CreateUploadLocation + PUT (flytekit's upload_file)", () => {
  it("stores the bytes at native_url, with the MD5 recorded, and answers the PUT 200", async () => {
    const data = Buffer.from("a,b\n1,2\n");
    const before = Date.now();
    const { loc, res } = await flytekitUpload(t, data, {});
    expect(res.status).toBe(200);
    expect(loc.nativeUrl).toBe(`${store.root}/flytesnacks/development/${base32(md5(data))}/data.csv`);
    expect(loc.signedUrl.startsWith(`${t.httpBaseUrl}/api/v1/blobs/`)).toBe(true);
    expect(loc.headers).toEqual({ "Content-MD5": md5(data).toString("base64") });
    const expiresAt = Number(loc.expiresAt?.seconds ?? 0n) * 1000;
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3_600_000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000);
    expect(Buffer.from((await store.get(loc.nativeUrl)) ?? [])).toEqual(data);
    const info = await store.head(loc.nativeUrl);
    expect({ size: info?.size, md5: Buffer.from(info?.contentMd5 ?? []) }).toEqual({
      size: data.length,
      md5: md5(data),
    });
  });

  it("is served to a grpc-js client too, with a random 20-character filename when none is given", async () => {
    const grpc = createGrpcJsClient(DataProxyService, t.grpcAddress);
    try {
      const data = Buffer.from("no name");
      const loc = await grpc.unary("createUploadLocation", { ...P, org: "acme", contentMd5: md5(data) });
      const prefix = `${store.root}/acme/flytesnacks/development/${base32(md5(data))}/`;
      expect(loc.nativeUrl.startsWith(prefix)).toBe(true);
      expect(loc.nativeUrl.slice(prefix.length)).toMatch(/^[a-z0-9]{20}$/);
      const res = await fetch(loc.signedUrl, { method: "PUT", body: data, headers: loc.headers });
      expect(res.status).toBe(200);
      expect(Buffer.from((await store.get(loc.nativeUrl)) ?? [])).toEqual(data);
    } finally {
      grpc.close();
    }
  });

  it("with filename_root: the same file again succeeds, another one or no hash gets ALREADY_EXISTS", async () => {
    const data = Buffer.from("fast registration archive");
    const first = await flytekitUpload(t, data, { filenameRoot: "fast-root", filename: "fast.tar.gz" });
    expect(first.res.status).toBe(200);
    expect(first.loc.nativeUrl).toBe(`${store.root}/flytesnacks/development/fast-root/fast.tar.gz`);
    const again = await flytekitUpload(t, data, { filenameRoot: "fast-root", filename: "fast.tar.gz" });
    expect(again.res.status).toBe(200);
    const exists = `file already exists at location [${first.loc.nativeUrl}], specify a matching hash if you wish to rewrite`;
    await expectCode(
      flytekitUpload(t, Buffer.from("other bytes"), { filenameRoot: "fast-root", filename: "fast.tar.gz" }),
      Code.AlreadyExists,
      exists,
    );
    await expectCode(
      t.dataProxy.createUploadLocation({ ...P, filenameRoot: "fast-root", filename: "fast.tar.gz" }),
      Code.AlreadyExists,
      exists,
    );
    expect(Buffer.from((await store.get(first.loc.nativeUrl)) ?? [])).toEqual(data);
  });

  it("refuses bad requests with FlyteAdmin's texts", async () => {
    const h = md5(Buffer.from("x"));
    const call = (req: Parameters<typeof t.dataProxy.createUploadLocation>[0]) =>
      t.dataProxy.createUploadLocation(req);
    await expectCode(
      call({ domain: "development", contentMd5: h }),
      Code.InvalidArgument,
      "project and domain are required parameters",
    );
    await expectCode(
      call({ ...P, filename: "f" }),
      Code.InvalidArgument,
      "content_md5 or filename_root is a required parameter",
    );
    await expectCode(
      call({ ...P, contentMd5: h, expiresIn: { seconds: 7200n } }),
      Code.InvalidArgument,
      "expiresIn [2h0m0s] cannot exceed max allowed expiration [1h0m0s]",
    );
    await expectCode(
      call({ ...P, filenameRoot: "r", filename: "../../../etc/passwd" }),
      Code.InvalidArgument,
      /^invalid/,
    );
  });
});

describe("signed PUT refusals", () => {
  const data = Buffer.from("the signed bytes");

  async function signedPut(server = t, over: { filename?: string; expiresIn?: { seconds: bigint } } = {}) {
    return server.dataProxy.createUploadLocation({
      ...P,
      contentMd5: md5(data),
      filename: over.filename ?? "signed.bin",
      addContentMd5Metadata: true,
      ...(over.expiresIn === undefined ? {} : { expiresIn: over.expiresIn }),
    });
  }
  const put = (url: string, body: RequestInit["body"], headers: Record<string, string> = {}) =>
    fetch(url, { method: "PUT", body, headers, duplex: "half" } as RequestInit);
  const contentMd5 = { "Content-MD5": md5(data).toString("base64") };

  it("403 for a wrong signature, a changed key or a GET of a PUT URL; nothing stored", async () => {
    const loc = await signedPut(t, { filename: "forged.bin" });
    const url = new URL(loc.signedUrl);
    const sig = url.searchParams.get("signature") ?? "";
    url.searchParams.set("signature", `${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`);
    const forged = await put(url.toString(), data, contentMd5);
    expect({ status: forged.status, text: await forged.text() }).toEqual({
      status: 403,
      text: "forbidden: the signature does not match\n",
    });
    const moved = await put(loc.signedUrl.replace("forged.bin", "moved.bin"), data, contentMd5);
    expect(moved.status).toBe(403);
    const get = await fetch(loc.signedUrl);
    expect(get.status).toBe(403);
    expect(await store.head(loc.nativeUrl)).toBeUndefined();
  });

  it("403 for an expired URL", async () => {
    const loc = await signedPut(t, { filename: "expired.bin", expiresIn: { seconds: -1n } });
    const res = await put(loc.signedUrl, data, contentMd5);
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/^forbidden: the URL expired at /);
    expect(await store.head(loc.nativeUrl)).toBeUndefined();
  });

  it("400 for a body whose MD5 differs, a missing or different Content-MD5; nothing stored", async () => {
    const loc = await signedPut(t, { filename: "md5.bin" });
    const wrongBody = await put(loc.signedUrl, Buffer.from("other bytes, same length"), contentMd5);
    expect({ status: wrongBody.status, text: await wrongBody.text() }).toEqual({
      status: 400,
      text: "bad request: the body's MD5 differs from the Content-MD5\n",
    });
    const missing = await put(loc.signedUrl, data);
    expect({ status: missing.status, text: await missing.text() }).toEqual({
      status: 400,
      text: "bad request: the URL was signed for a Content-MD5 and the request has none\n",
    });
    const other = await put(loc.signedUrl, data, { "Content-MD5": md5(Buffer.from("y")).toString("base64") });
    expect(other.status).toBe(400);
    expect(await other.text()).toMatch(/differs from the MD5 the URL was signed for/);
    expect(await store.head(loc.nativeUrl)).toBeUndefined();
    const right = await put(loc.signedUrl, data, contentMd5);
    expect(right.status).toBe(200);
  });

  it("413 past the upload limit, declared or streamed; nothing stored", async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 7);
    const loc = await small.dataProxy.createUploadLocation({
      ...P,
      contentMd5: md5(big),
      filename: "big.bin",
    });
    const bigMd5 = { "Content-MD5": md5(big).toString("base64") };
    const declared = await put(loc.signedUrl, big, bigMd5);
    expect({ status: declared.status, text: await declared.text() }).toEqual({
      status: 413,
      text: "payload too large: the upload limit is 1048576 bytes\n",
    });
    async function* chunks() {
      for (let i = 0; i < 17; i++) yield big.subarray(i * 65536, Math.min(big.length, (i + 1) * 65536));
    }
    const streamed = await put(loc.signedUrl, ReadableStream.from(chunks()) as RequestInit["body"], bigMd5);
    expect(streamed.status).toBe(413);
    expect(await storeOf(loc.nativeUrl).head(loc.nativeUrl)).toBeUndefined();
    // Exactly the limit is accepted.
    const fits = big.subarray(1);
    const ok = await small.dataProxy.createUploadLocation({
      ...P,
      contentMd5: md5(fits),
      filename: "fits.bin",
    });
    expect((await put(ok.signedUrl, fits, { "Content-MD5": md5(fits).toString("base64") })).status).toBe(200);
  });

  it("a PUT cut short stores nothing and leaves no temporary file; the server goes on", async () => {
    const loc = await signedPut(t, { filename: "cut.bin" });
    const dir = path.dirname(new URL(loc.nativeUrl).pathname);
    const temps = () =>
      fs.promises.readdir(dir).then(
        (names) => names.filter((n) => n.startsWith(".petrel-tmp-")),
        () => [],
      );
    const req = http.request(loc.signedUrl, {
      method: "PUT",
      headers: { "Content-Length": String(1024 * 1024), ...loc.headers },
    });
    req.on("error", () => {});
    req.write(Buffer.alloc(64 * 1024));
    await eventually(temps, (names) => names.length === 1);
    req.destroy();
    await eventually(temps, (names) => names.length === 0);
    expect(await store.head(loc.nativeUrl)).toBeUndefined();
    expect((await put(loc.signedUrl, data, contentMd5)).status).toBe(200);
  });

  it("400 for a key that would leave the store, 405 for other methods", async () => {
    const port = t.server.httpPort;
    for (const p of [
      "../../etc/passwd",
      "%2e%2e/%2e%2e/etc/passwd",
      "a/..%2F..%2Fx",
      "a//b",
      ".petrel-md5/x",
    ]) {
      const res = await rawRequest(port, "PUT", `/api/v1/blobs/${p}?expires=99999999999999&signature=x`);
      expect({ p, status: res.status }).toEqual({ p, status: 400 });
      expect((await rawRequest(port, "GET", `/api/v1/blobs/${p}`)).status).toBe(400);
    }
    // Signed with the server's key but naming the store's own files: still refused.
    const signer = new HmacUrlSigner(Buffer.from(SIGNING_KEY));
    signer.setDefaultBaseUrl(t.httpBaseUrl);
    const inside = await fetch(signer.signGet(".petrel-md5/flytesnacks/x", { expiresInMs: 60_000 }).url);
    expect(inside.status).toBe(400);
    const post = await rawRequest(port, "POST", "/api/v1/blobs/a");
    expect(post.status).toBe(405);
  });
});
