import { describe, expect, it } from "vitest";
import {
  attemptOutputDir,
  attemptOutputsUri,
  executionInputsUri,
  executionOutputsUri,
  fixedLength,
  nodeInputsUri,
  perRetryUniqueKey,
  rawSandbox,
  shardOf,
} from "../../../server/storage/layout.js";

const e = { project: "flytesnacks", domain: "development", name: "a1b2c3" };
const root = "s3://my-s3-bucket";

describe("storage layout", () => {
  it("lays out metadata as Flyte does", () => {
    expect(executionInputsUri(root, e)).toBe(
      "s3://my-s3-bucket/metadata/flytesnacks/development/a1b2c3/inputs",
    );
    const exec = "s3://my-s3-bucket/metadata/propeller/flytesnacks-development-a1b2c3";
    expect(nodeInputsUri(root, e, "n0")).toBe(`${exec}/n0/data/inputs.pb`);
    expect(attemptOutputDir(root, e, "n0", 1)).toBe(`${exec}/n0/data/1`);
    expect(attemptOutputsUri(root, e, "n0", 0)).toBe(`${exec}/n0/data/0/outputs.pb`);
    expect(executionOutputsUri(root, e)).toBe(`${exec}/end-node/data/0/outputs.pb`);
    expect(nodeInputsUri("file:///var/lib/petrel/blobs/", e, "n0")).toBe(
      "file:///var/lib/petrel/blobs/metadata/propeller/flytesnacks-development-a1b2c3/n0/data/inputs.pb",
    );
  });

  it("names raw-output sandboxes with a fixed-length id under a two-character shard", () => {
    const sandbox = rawSandbox("s3://raw/prefix", e, "n0", 2);
    expect(sandbox).toMatch(/^s3:\/\/raw\/prefix\/[a-z0-9]{2}\/a1b2c3-n0-2$/);
    expect(sandbox.split("/")[4]).toBe(shardOf("a1b2c3-n0-2"));
    const long = fixedLength("x".repeat(60), 50);
    expect(long).toMatch(/^f[a-z1-6]{7}$/);
    expect(fixedLength("x".repeat(60), 50)).toBe(long);
    expect(fixedLength("y".repeat(60), 50)).not.toBe(long);
    expect(fixedLength("short", 50)).toBe("short");
  });

  it("derives the per-retry key from the unique id", () => {
    expect(perRetryUniqueKey({ ...e, name: "9abc" }, "n-0", 1)).toBe("aabc_n_0_1");
    expect(perRetryUniqueKey(e, "n0", 0)).toBe("a1b2c3_n0_0");
  });
});
