// The storage settings (flags and environment → config) and the store they choose.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../server/config.js";
import { createBlobStore } from "../../../server/storage/create-blob-store.js";
import { LocalBlobStore } from "../../../server/storage/local-blob-store.js";
import { S3BlobStore } from "../../../server/storage/s3-blob-store.js";
import { parseStorageUrl } from "../../../server/storage/storage-url.js";
import type { UrlSigner } from "../../../server/storage/url-signer.js";

const signer: UrlSigner = {
  signPut: () => ({ url: "", headers: {}, expiresAt: new Date(0) }),
  signGet: () => ({ url: "", expiresAt: new Date(0) }),
};

function problemsOf(argv: string[], env: Record<string, string> = {}): readonly string[] {
  try {
    loadConfig(argv, env, "/srv");
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("storage configuration", () => {
  it("defaults to the local store under the home directory", () => {
    const c = loadConfig(["--home", "data"], {}, "/srv");
    expect(c).toMatchObject({
      storageUrl: "file:///srv/data/blobs",
      storageEndpoint: undefined,
      storageRegion: "us-east-1",
      storagePathStyle: false,
    });
    const store = createBlobStore(c, signer);
    expect(store).toBeInstanceOf(LocalBlobStore);
    expect(store.root).toBe("file:///srv/data/blobs");
  });

  it("reads S3 settings from flags and the environment (flags win; AWS_REGION as the fallback region)", () => {
    const env = {
      PETREL_STORAGE_URL: "s3://env-bucket",
      PETREL_STORAGE_ENDPOINT: "http://minio:9000/",
      AWS_REGION: "eu-west-3",
    };
    const c = loadConfig(["--storage-url", "s3://flyte-data/petrel/prod/"], env, "/srv");
    expect(c).toMatchObject({
      storageUrl: "s3://flyte-data/petrel/prod",
      storageEndpoint: "http://minio:9000",
      storageRegion: "eu-west-3",
      storagePathStyle: true,
    });
    const store = createBlobStore(c, signer);
    expect(store).toBeInstanceOf(S3BlobStore);
    expect(store.uri("a", "b.pb")).toBe("s3://flyte-data/petrel/prod/a/b.pb");
    const aws = loadConfig(["--storage-region", "us-west-2"], {
      PETREL_STORAGE_URL: "s3://bucket",
      AWS_REGION: "x",
    });
    expect(aws).toMatchObject({
      storageRegion: "us-west-2",
      storagePathStyle: false,
      storageEndpoint: undefined,
    });
    const virtualHosts = loadConfig(["--storage-path-style", "off"], env);
    expect(virtualHosts.storagePathStyle).toBe(false);
  });

  it("reports every storage problem at once", () => {
    const problems = problemsOf(["--storage-url", "s3://b/../x", "--storage-path-style", "yes"], {
      PETREL_STORAGE_ENDPOINT: "minio:9000",
    });
    expect(problems).toEqual([
      '--storage-url: "s3://b/../x" must be file:///<absolute directory> or s3://<bucket>[/<prefix>]',
      'PETREL_STORAGE_ENDPOINT: "minio:9000" must be an http:// or https:// URL with no path',
      '--storage-path-style: "yes" must be one of on, off',
    ]);
    expect(problemsOf([], { PETREL_STORAGE_ENDPOINT: "http://minio:9000" })).toEqual([
      "PETREL_STORAGE_ENDPOINT: an endpoint needs an s3:// storage URL (--storage-url)",
    ]);
  });

  it("accepts only storage URLs that name a directory or a bucket and safe prefix", () => {
    expect(parseStorageUrl("file:///var/lib/petrel/blobs/")).toEqual({
      kind: "file",
      dir: "/var/lib/petrel/blobs",
    });
    expect(parseStorageUrl("s3://my-bucket")).toEqual({ kind: "s3", bucket: "my-bucket", prefix: "" });
    expect(parseStorageUrl("s3://my_bucket.v2/a/b/")).toEqual({
      kind: "s3",
      bucket: "my_bucket.v2",
      prefix: "a/b",
    });
    for (const bad of [
      "file://relative",
      "file:///",
      "s3://b",
      "s3://bucket/a//b",
      "s3://bucket/%2e%2e",
      "gs://x/y",
      "/tmp",
    ]) {
      expect(parseStorageUrl(bad), bad).toBeUndefined();
    }
  });
});
