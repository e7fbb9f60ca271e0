// What only the local store does: file:// URIs that are plain absolute paths, the recorded-MD5 sidecar and when it is
// believed, signing through the injected UrlSigner. (The behaviour both stores share: test/integration/blob-store.test.ts.)
import { createHash } from "node:crypto";
import { copyFile, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Code } from "../../../server/errors.js";
import type { PutOptions } from "../../../server/storage/blob-store.js";
import { LocalBlobStore } from "../../../server/storage/local-blob-store.js";
import type { UrlSigner } from "../../../server/storage/url-signer.js";

const md5 = (data: string) => createHash("md5").update(data).digest();

describe("LocalBlobStore", () => {
  let dir: string;
  let store: LocalBlobStore;
  const signed: { method: string; key: string; options: object }[] = [];
  const signer: UrlSigner = {
    signPut: (key, options: PutOptions & { expiresInMs: number }) => {
      signed.push({ method: "PUT", key, options });
      return { url: `http://petrel/put/${key}`, headers: {}, expiresAt: new Date(0) };
    },
    signGet: (key, options) => {
      signed.push({ method: "GET", key, options });
      return { url: `http://petrel/get/${key}`, expiresAt: new Date(0) };
    },
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "petrel-local-"));
    store = new LocalBlobStore(path.join(dir, "blobs"), signer);
    signed.length = 0;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("writes blobs without a sync each and flushes them together, again after close", async () => {
    const uris = Array.from({ length: 20 }, (_, i) => store.uri("batch", `b${i}`));
    await Promise.all(uris.map((u, i) => store.put(u, Buffer.from(`blob ${i}`), { durable: false })));
    await Promise.all([store.flush(), store.flush(), store.flush()]);
    for (const [i, u] of uris.entries())
      expect(Buffer.from((await store.get(u)) ?? [])).toEqual(Buffer.from(`blob ${i}`));
    await store.close();
    await store.flush(); // a new helper after close
    expect((await readdir(path.join(dir, "blobs", "batch"))).filter((f) => f.startsWith(".petrel"))).toEqual(
      [],
    );
  });

  it("names blobs by their absolute paths, unencoded, as flytekit opens file:// URIs", async () => {
    const uri = store.uri("proj", "dev", "my data (1).csv");
    expect(uri).toBe(`file://${dir}/blobs/proj/dev/my data (1).csv`);
    await store.put(uri, Buffer.from("x,y"));
    expect(await readFile(path.join(dir, "blobs", "proj", "dev", "my data (1).csv"), "utf8")).toBe("x,y");
    expect(store.keyOf(uri)).toBe("proj/dev/my data (1).csv");
    expect(() => new LocalBlobStore("relative/blobs", signer)).toThrow(/absolute/);
  });

  it("signs through its UrlSigner with the blob's key, and only for its own blobs", async () => {
    const uri = store.uri("p", "d", "ROOT", "a.txt");
    const put = await store.signPut(uri, { contentMd5: md5("a"), storeMd5: true, expiresInMs: 5000 });
    const get = await store.signGet(uri, { expiresInMs: 7000 });
    expect(put.url).toBe("http://petrel/put/p/d/ROOT/a.txt");
    expect(get.url).toBe("http://petrel/get/p/d/ROOT/a.txt");
    expect(signed).toEqual([
      {
        method: "PUT",
        key: "p/d/ROOT/a.txt",
        options: { contentMd5: md5("a"), storeMd5: true, expiresInMs: 5000 },
      },
      { method: "GET", key: "p/d/ROOT/a.txt", options: { expiresInMs: 7000 } },
    ]);
    await expect(store.signGet(`file://${dir}/elsewhere`, { expiresInMs: 1 })).rejects.toThrow(/not a blob/);
  });

  it("believes a recorded MD5 only while the blob is the file it was recorded for", async () => {
    const uri = store.uri("a", "b.txt");
    await store.put(uri, Buffer.from("first"), { storeMd5: true });
    expect(Buffer.from((await store.head(uri))?.contentMd5 ?? [])).toEqual(md5("first"));
    const sidecar = path.join(dir, "blobs", ".petrel-md5", "a", "b.txt");
    await copyFile(sidecar, `${dir}/old-sidecar`);

    // Overwritten without storeMd5: the sidecar goes, and even put back (a crash between the two renames leaves
    // exactly that: the new sidecar, the old blob) it names another file, though of the same size.
    await store.put(uri, Buffer.from("other"));
    expect(await store.head(uri)).toEqual({ size: 5 });
    await copyFile(`${dir}/old-sidecar`, sidecar);
    expect(await store.head(uri)).toEqual({ size: 5 });
  });

  it("refuses a blob where a directory is, and under a blob, with FailedPrecondition", async () => {
    await store.put(store.uri("d", "f"), Buffer.from("1"));
    await expect(store.put(store.uri("d"), Buffer.from("2"))).rejects.toMatchObject({
      code: Code.FailedPrecondition,
    });
    await expect(store.put(store.uri("d", "f", "g"), Buffer.from("3"))).rejects.toMatchObject({
      code: Code.FailedPrecondition,
    });
    expect(await store.list(`${store.root}/`)).toEqual([{ uri: store.uri("d", "f"), size: 1 }]);
  });

  it("lists only blobs: never its temporary files or recorded MD5s", async () => {
    await store.put(store.uri("x", "1"), Buffer.from("1"), { storeMd5: true });
    await store.put(store.uri("x", "2"), Buffer.from("22"));
    expect(await store.list(`${store.root}/`)).toEqual([
      { uri: store.uri("x", "1"), size: 1 },
      { uri: store.uri("x", "2"), size: 2 },
    ]);
    expect(await store.list(`${store.root}/x/`)).toHaveLength(2);
    expect(await store.list(`${store.root}/.pe`)).toEqual([]);
    expect((await readdir(path.join(dir, "blobs"))).sort()).toEqual([".petrel-md5", "x"]);
  });
});
