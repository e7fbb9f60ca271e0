// The S3 store's presigned URLs, used as a client uses them (fetch), against the S3 test server: Content-MD5 and the
// recorded-MD5 metadata header are bound into the PUT's signature, bodies must match their MD5, URLs expire.

import { createHash, randomBytes } from "node:crypto";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3BlobStore } from "../../server/storage/s3-blob-store.js";
import { eventually } from "../support/eventually.js";
import { type S3TestServer, startS3TestServer } from "../support/s3-test-server.js";

const md5 = (data: Uint8Array) => createHash("md5").update(data).digest();

describe("S3 presigned URLs", () => {
  let server: S3TestServer;
  let store: S3BlobStore;
  let raw: S3Client;
  beforeAll(async () => {
    server = await startS3TestServer();
    const options = { endpoint: server.endpoint, region: server.region, credentials: server.credentials };
    store = new S3BlobStore({ ...options, bucket: server.bucket, prefix: "uploads", forcePathStyle: true });
    raw = new S3Client({ ...options, forcePathStyle: true });
  });
  afterAll(async () => {
    raw?.destroy();
    await store?.close();
    await server?.stop();
  });
  const key = (name: string) => store.uri("p", "d", randomBytes(6).toString("hex"), name);

  it("uploads through a presigned PUT bound to the MD5, records it as metadata, and downloads it", async () => {
    const uri = key("data.csv");
    const body = Buffer.from("a,b\n1,2\n");
    const signed = await store.signPut(uri, { contentMd5: md5(body), storeMd5: true, expiresInMs: 60_000 });
    const b64 = md5(body).toString("base64");
    expect(signed.headers).toEqual({ "Content-MD5": b64, "x-amz-meta-flytecontentmd5": b64 });
    const signedHeaders = new URL(signed.url).searchParams.get("X-Amz-SignedHeaders")?.split(";");
    expect(signedHeaders).toEqual(
      expect.arrayContaining(["content-md5", "host", "x-amz-meta-flytecontentmd5"]),
    );
    expect(signed.expiresAt.getTime() - Date.now()).toBeGreaterThan(55_000);
    const put = await fetch(signed.url, { method: "PUT", body, headers: signed.headers });
    expect(put.status).toBe(200);

    // The object carries FlyteAdmin's metadata, and head() reports the MD5.
    const head = await raw.send(
      new HeadObjectCommand({ Bucket: server.bucket, Key: new URL(uri).pathname.slice(1) }),
    );
    expect(head.Metadata).toEqual({ flytecontentmd5: b64 });
    expect(Buffer.from((await store.head(uri))?.contentMd5 ?? [])).toEqual(md5(body));

    const get = await fetch((await store.signGet(uri, { expiresInMs: 60_000 })).url);
    expect(get.status).toBe(200);
    expect(Buffer.from(await get.arrayBuffer())).toEqual(body);
  });

  it("refuses a PUT whose Content-MD5, metadata or body differs from what was signed, storing nothing", async () => {
    const uri = key("bound.bin");
    const body = randomBytes(1000);
    const signed = await store.signPut(uri, { contentMd5: md5(body), storeMd5: true, expiresInMs: 60_000 });
    const otherMd5 = md5(Buffer.from("other")).toString("base64");
    const attempts: [string, Buffer, Record<string, string>, number][] = [
      ["another Content-MD5", Buffer.from("other"), { ...signed.headers, "Content-MD5": otherMd5 }, 403],
      ["no Content-MD5", body, { "x-amz-meta-flytecontentmd5": signed.headers["Content-MD5"] ?? "" }, 403],
      ["no metadata header", body, { "Content-MD5": signed.headers["Content-MD5"] ?? "" }, 403],
      ["a body that is not the signed MD5's", randomBytes(1000), signed.headers, 400],
    ];
    for (const [what, data, headers, status] of attempts) {
      const res = await fetch(signed.url, { method: "PUT", body: data, headers });
      expect(res.status, what).toBe(status);
      await res.arrayBuffer();
    }
    expect(await store.head(uri)).toBeUndefined();
  });

  it("signs a PUT without an MD5 when none is given", async () => {
    const uri = key("free.txt");
    const signed = await store.signPut(uri, { expiresInMs: 60_000 });
    expect(signed.headers).toEqual({});
    const res = await fetch(signed.url, { method: "PUT", body: "anything" });
    expect(res.status).toBe(200);
    expect(Buffer.from((await store.get(uri)) ?? []).toString()).toBe("anything");
  });

  it("stops honouring a URL once it expires", async () => {
    const uri = key("soon.txt");
    await store.put(uri, Buffer.from("x"));
    const signed = await store.signGet(uri, { expiresInMs: 1000 });
    expect(signed.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(1000);
    expect((await fetch(signed.url)).status).toBe(200);
    await eventually(
      async () => (await fetch(signed.url)).status,
      (status) => status === 403,
      5000,
      100,
    );
    expect(Date.now()).toBeGreaterThan(signed.expiresAt.getTime());
  });
});
