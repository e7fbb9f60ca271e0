// The docker runtime's pure parts: Kubernetes quantities → Docker limits, image references for the pull API, the
// multiplexed log stream; and the attempt log writer's flushing and truncation.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ResourcesSchema } from "../../../gen/flyteidl/core/tasks_pb.js";
import { dockerLimits, parseQuantity } from "../../../server/engine/plugins/container-resources.js";
import { demultiplex, splitReference } from "../../../server/engine/plugins/docker-api.js";
import { AttemptLogWriter } from "../../../server/engine/task-log-store.js";
import { LocalBlobStore } from "../../../server/storage/local-blob-store.js";
import { HmacUrlSigner } from "../../../server/storage/signed-urls.js";

describe("container resources", () => {
  it("reads Kubernetes quantities", () => {
    expect(parseQuantity("500m")).toBe(0.5);
    expect(parseQuantity("2")).toBe(2);
    expect(parseQuantity("1.5")).toBe(1.5);
    expect(parseQuantity("256Mi")).toBe(256 * 2 ** 20);
    expect(parseQuantity("1G")).toBe(1e9);
    expect(parseQuantity("1e3")).toBe(1000);
    expect(parseQuantity("lots")).toBeUndefined();
    expect(parseQuantity("-1")).toBeUndefined();
  });

  it("maps limits (else requests) to Docker's CPU and memory limits", () => {
    const r = (requests: [number, string][], limits: [number, string][]) =>
      create(ResourcesSchema, {
        requests: requests.map(([name, value]) => ({ name, value })),
        limits: limits.map(([name, value]) => ({ name, value })),
      });
    expect(
      dockerLimits(
        r(
          [
            [1, "250m"],
            [3, "32Mi"],
          ],
          [
            [1, "1"],
            [3, "1Gi"],
          ],
        ),
      ).limits,
    ).toEqual({
      NanoCpus: 1e9,
      Memory: 2 ** 30,
      MemoryReservation: 32 * 2 ** 20,
    });
    expect(
      dockerLimits(
        r(
          [
            [1, "2"],
            [3, "100M"],
          ],
          [],
        ),
      ).limits,
    ).toEqual({ NanoCpus: 2e9, Memory: 1e8 });
    expect(dockerLimits(r([[3, "1k"]], [[2, "1"]])).limits).toEqual({ Memory: 6 * 2 ** 20 });
    expect(dockerLimits(r([[1, "fast"]], [])).problems).toEqual(['resource CPU "fast" is not a quantity']);
    expect(dockerLimits(undefined).limits).toEqual({});
  });
});

describe("Docker API helpers", () => {
  it("splits image references as the pull API takes them", () => {
    expect(splitReference("alpine")).toEqual({ name: "alpine", tag: "latest" });
    expect(splitReference("ghcr.io:443/acme/task:1.2")).toEqual({
      name: "ghcr.io:443/acme/task",
      tag: "1.2",
    });
    expect(splitReference("localhost:5000/x")).toEqual({ name: "localhost:5000/x", tag: "latest" });
    expect(splitReference("x@sha256:ab")).toEqual({ name: "x@sha256:ab", tag: "" });
  });

  it("splits a multiplexed log stream, frames cut anywhere", () => {
    const frame = (kind: number, text: string) => {
      const body = Buffer.from(text);
      const head = Buffer.alloc(8);
      head[0] = kind;
      head.writeUInt32BE(body.length, 4);
      return Buffer.concat([head, body]);
    };
    const all = Buffer.concat([frame(1, "out 1\n"), frame(2, "err\n"), frame(1, "out 2\n")]);
    const got: string[] = [];
    const push = demultiplex((s, d) => got.push(`${s}:${d.toString()}`));
    for (let i = 0; i < all.length; i += 5) push(all.subarray(i, i + 5));
    expect(got).toEqual(["stdout:out 1\n", "stderr:err\n", "stdout:out 2\n"]);
  });
});

describe("attempt log writer", () => {
  it("writes empty logs at once, the text while it grows, and what a plugin reported when it wrote none", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-log-writer-"));
    const store = new LocalBlobStore(dir, new HmacUrlSigner(randomBytes(32)));
    const key = { project: "p", domain: "d", name: "e" };
    const errors: unknown[] = [];
    const w = AttemptLogWriter.forAttempt(store, store.root, key, "n0", 0, (e) => errors.push(e));
    await w.open();
    const out = store.uri("metadata/propeller/p-d-e/n0/data/0/stdout.log");
    expect((await store.get(out))?.length).toBe(0);
    w.write("stdout", Buffer.from("one\n"));
    await w.close({ stdout: "ignored", stderr: "ignored" });
    expect(Buffer.from((await store.get(out)) ?? []).toString()).toBe("one\n");
    const w2 = AttemptLogWriter.forAttempt(store, store.root, key, "n0", 1, (e) => errors.push(e));
    await w2.close({ stdout: "", stderr: "reported\n" });
    const err = store.uri("metadata/propeller/p-d-e/n0/data/1/stderr.log");
    expect(Buffer.from((await store.get(err)) ?? []).toString()).toBe("reported\n");
    expect(errors).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
