// One suite, two stores: the local filesystem store and the S3 store against a real S3-compatible server (s3rver from
// npm, behind a Signature-V4 / Content-MD5 checking front, as a child process on a free port).
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../../server/errors.js";
import type { BlobStore } from "../../server/storage/blob-store.js";
import { LocalBlobStore } from "../../server/storage/local-blob-store.js";
import { S3BlobStore } from "../../server/storage/s3-blob-store.js";
import type { UrlSigner } from "../../server/storage/url-signer.js";
import { RssProbe } from "../support/memory.js";
import { type S3TestServer, startS3TestServer } from "../support/s3-test-server.js";

const MiB = 2 ** 20;

interface Subject {
  readonly name: string;
  setup(): Promise<void>;
  /** A new store over the same data (a restarted server's). */
  open(): BlobStore;
  /** Temporary files or unfinished multipart uploads a write left behind. */
  leftovers(): Promise<string[]>;
  teardown(): Promise<void>;
}

const noSigner: UrlSigner = {
  signPut: () => {
    throw new Error("not used");
  },
  signGet: () => {
    throw new Error("not used");
  },
};

function localSubject(): Subject {
  let dir = "";
  return {
    name: "local",
    setup: async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), "petrel-blobs-"));
    },
    open: () => new LocalBlobStore(path.join(dir, "blobs"), noSigner),
    leftovers: async () =>
      (await readdir(dir, { recursive: true })).filter((f) => path.basename(f).startsWith(".petrel-tmp")),
    teardown: () => rm(dir, { recursive: true, force: true }),
  };
}

function s3Subject(): Subject {
  let server: S3TestServer | undefined;
  const need = () => server ?? expect.fail("S3 test server not started");
  return {
    name: "s3",
    setup: async () => {
      server = await startS3TestServer();
    },
    open: () =>
      new S3BlobStore({
        bucket: need().bucket,
        prefix: "petrel/data",
        endpoint: need().endpoint,
        region: need().region,
        forcePathStyle: true,
        credentials: need().credentials,
        partSize: 5 * MiB,
        queueSize: 2,
      }),
    leftovers: () => need().pendingUploads(),
    teardown: async () => server?.stop(),
  };
}

const md5 = (data: Uint8Array) => createHash("md5").update(data).digest();

/**
 * `mib` MiB of a fixed pattern in 1 MiB chunks, each made as it is read; `seen` gets each chunk after it. A byte
 * stream that buffers little ahead of its reader (64 KiB), like an HTTP request body.
 */
function patterned(mib: number, seen: (chunk: Buffer) => void = () => {}): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < mib; i++) {
        const chunk = Buffer.alloc(MiB, (i * 31) & 0xff);
        chunk.writeUInt32BE(i, 0);
        yield chunk;
        seen(chunk);
      }
    })(),
    { objectMode: false, highWaterMark: 64 * 1024 },
  );
}

async function md5OfStream(stream: Readable): Promise<{ md5: Buffer; size: number }> {
  const hash = createHash("md5");
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { md5: hash.digest(), size };
}

describe.each([localSubject(), s3Subject()])("the $name blob store", (subject) => {
  let store: BlobStore;
  let ns: string;
  beforeAll(async () => {
    await subject.setup();
    store = subject.open();
  });
  afterAll(async () => {
    await store?.close();
    await subject.teardown();
  });
  // Every test works under its own directory.
  const fresh = () => {
    ns = `t-${randomBytes(4).toString("hex")}`;
    return ns;
  };

  it("puts, gets, heads and lists blobs, and answers undefined for missing ones", async () => {
    const dir = fresh();
    const a = store.uri(dir, "n0", "data", "inputs.pb");
    const b = store.uri(dir, "n0/data/0", "outputs.pb");
    const c = store.uri(dir, "raw", "my file (1).csv");
    await store.put(a, Buffer.from("inputs"));
    await store.put(b, Buffer.from("outputs!"));
    await store.put(c, new Uint8Array(0));
    expect(store.owns(a)).toBe(true);
    expect(Buffer.from((await store.get(a)) ?? [])).toEqual(Buffer.from("inputs"));
    expect((await store.head(b))?.size).toBe(8);
    expect((await store.head(c))?.size).toBe(0);
    expect(await store.list(`${store.uri(dir)}/`)).toEqual([
      { uri: b, size: 8 },
      { uri: a, size: 6 },
      { uri: c, size: 0 },
    ]);
    expect((await store.list(`${store.uri(dir, "n0")}/`)).map((e) => e.uri)).toEqual([b, a]);
    expect(await store.list(`${store.uri(dir, "nothing")}/`)).toEqual([]);
    // A limit stops the search (which blobs come back past it is not specified).
    const two = await store.list(`${store.uri(dir)}/`, { limit: 2 });
    expect(two).toHaveLength(2);
    for (const e of two) expect([a, b, c]).toContain(e.uri);
    expect(await store.list(`${store.uri(dir)}/`, { limit: 4 })).toHaveLength(3);
    const missing = store.uri(dir, "n1", "inputs.pb");
    expect(await store.get(missing)).toBeUndefined();
    expect(await store.read(missing)).toBeUndefined();
    expect(await store.head(missing)).toBeUndefined();
    expect(await store.get(store.uri(dir, "n0"))).toBeUndefined(); // a "directory" is no blob
    await store.put(a, Buffer.from("replaced"));
    expect(Buffer.from((await store.get(a)) ?? []).toString()).toBe("replaced");
  });

  it("streams a write, reports its size and MD5, and reads it back as a stream", async () => {
    const uri = store.uri(fresh(), "big.bin");
    const expected = createHash("md5");
    const info = await store.write(
      uri,
      patterned(12, (c) => expected.update(c)),
    );
    const digest = expected.digest();
    expect(info.size).toBe(12 * MiB);
    expect(Buffer.from(info.contentMd5 ?? [])).toEqual(digest);
    const stream = await store.read(uri);
    expect(await md5OfStream(stream ?? expect.fail("no stream"))).toEqual({ md5: digest, size: 12 * MiB });
  });

  it("records the MD5 when asked, and head() reports it", async () => {
    const dir = fresh();
    const data = Buffer.from("hello, flyte");
    await store.put(store.uri(dir, "put"), data, { storeMd5: true, contentMd5: md5(data) });
    await store.write(store.uri(dir, "write"), Readable.from([data]), { storeMd5: true });
    for (const name of ["put", "write"]) {
      const head = await store.head(store.uri(dir, name));
      expect(Buffer.from(head?.contentMd5 ?? [])).toEqual(md5(data));
    }
  });

  it("keeps what it stored across a reopened store", async () => {
    const uri = store.uri(fresh(), "durable.pb");
    const data = randomBytes(100_000);
    await store.put(uri, data, { storeMd5: true });
    const reopened = subject.open();
    try {
      expect(Buffer.from((await reopened.get(uri)) ?? [])).toEqual(data);
      expect(Buffer.from((await reopened.head(uri))?.contentMd5 ?? [])).toEqual(md5(data));
    } finally {
      await reopened.close();
    }
    expect(await subject.leftovers()).toEqual([]);
  });

  it("refuses every URI that could reach outside its root", async () => {
    const root = store.root;
    for (const segments of [
      [".."],
      ["a", "..", "b"],
      ["a/../b"],
      ["/etc/passwd"],
      ["a//b"],
      [""],
      ["a\0b"],
      ["a%2Fb"],
      ["a%5cb"],
      ["%2e%2e"],
      ["a\\b"],
      [".petrel-md5", "x"],
    ]) {
      expect(() => store.uri(...segments), JSON.stringify(segments)).toThrow(/invalid blob path/);
    }
    for (const uri of [
      `${root}/../x`,
      `${root}/a/../../x`,
      `${root}/%2e%2e/x`,
      `${root}/a%2F..%2F..%2Fx`,
      `${root}x/y`,
      `${root}/`,
      root,
      `${root}//x`,
      `${root}/a/`,
      "file:///etc/passwd",
      "s3://other-bucket/x",
    ]) {
      expect(store.owns(uri), uri).toBe(false);
      await expect(store.get(uri), uri).rejects.toMatchObject({ code: Code.InvalidArgument });
      await expect(store.put(uri, Buffer.from("x")), uri).rejects.toMatchObject({
        code: Code.InvalidArgument,
      });
    }
    await expect(store.list(`${root}/../`)).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(store.list("file:///")).rejects.toMatchObject({ code: Code.InvalidArgument });
  });

  it("refuses a body over maxBytes and leaves nothing behind (nor touches the blob it would replace)", async () => {
    const dir = fresh();
    const fresh1 = store.uri(dir, "too-big");
    const existing = store.uri(dir, "existing");
    await store.put(existing, Buffer.from("old"));
    for (const uri of [fresh1, existing]) {
      await expect(store.write(uri, patterned(16), { maxBytes: 11 * MiB })).rejects.toMatchObject({
        code: Code.ResourceExhausted,
      });
    }
    expect(await store.head(fresh1)).toBeUndefined();
    expect(Buffer.from((await store.get(existing)) ?? []).toString()).toBe("old");
    expect((await store.list(`${store.uri(dir)}/`)).map((e) => e.uri)).toEqual([existing]);
    expect(await subject.leftovers()).toEqual([]);
  });

  it("refuses a body whose MD5 is not the given one and leaves nothing behind", async () => {
    const dir = fresh();
    const uri = store.uri(dir, "wrong-md5");
    const wrong = md5(Buffer.from("something else"));
    await expect(
      store.write(uri, patterned(12), { contentMd5: wrong, storeMd5: true }),
    ).rejects.toMatchObject({
      code: Code.DataLoss,
    });
    await expect(store.put(uri, Buffer.from("data"), { contentMd5: wrong })).rejects.toMatchObject({
      code: Code.DataLoss,
    });
    expect(await store.head(uri)).toBeUndefined();
    expect(await store.list(`${store.uri(dir)}/`)).toEqual([]);
    expect(await subject.leftovers()).toEqual([]);
    const right = patterned(1);
    const info = await store.write(uri, right, {
      contentMd5: md5(Buffer.concat(await chunksOf(patterned(1)))),
    });
    expect(info.size).toBe(MiB);
  });

  it("streams a 128 MiB write without holding it in memory", async () => {
    const uri = store.uri(fresh(), "large.bin");
    await store.write(store.uri(ns, "warm-up"), patterned(12)); // the client's code and sockets, loaded once
    const expected = createHash("md5");
    const rss = new RssProbe();
    const info = await store.write(
      uri,
      patterned(128, (chunk) => {
        expected.update(chunk);
        if (chunk.readUInt32BE(0) % 4 === 3) rss.sample();
      }),
      { maxBytes: 128 * MiB },
    );
    const digest = expected.digest();
    expect(info.size).toBe(128 * MiB);
    expect(Buffer.from(info.contentMd5 ?? [])).toEqual(digest);
    const grew = `RSS grew by ${(rss.growth() / MiB).toFixed(1)} MiB`;
    // Holding the body would add ≥ 128 MiB; the S3 store keeps ≈ partSize × (queueSize + 2) ≈ 20 MiB of parts.
    expect(rss.growth(), grew).toBeLessThan(64 * MiB);
    const back = await md5OfStream((await store.read(uri)) ?? expect.fail("no stream"));
    expect(back).toEqual({ md5: digest, size: 128 * MiB });
  });
});

async function chunksOf(stream: Readable): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) out.push(c);
  return out;
}
