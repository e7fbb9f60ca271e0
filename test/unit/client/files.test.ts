// The client's file pieces that need no server: digests and flytekit's directory root, which URIs are remote, the
// blobs inside literals, the server's directory listings (and keys that would climb out of a directory),
// `--input k=@PATH`, bounded concurrency, and launch plans whose local file defaults are rewritten without touching the
// definition.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localPathOf } from "../../../client/blob-downloads.js";
import { LISTING_FORMAT, parseListing } from "../../../client/blob-listing.js";
import { blobsOfMap, isRemoteUri, launchPlanLiterals } from "../../../client/blob-literals.js";
import { parseInputs } from "../../../client/cli/main.js";
import { launchPlan, serialize, t, task, workflow } from "../../../client/dsl/index.js";
import { base32, digestDirectory, digestFile, directoryRoot, mapLimit } from "../../../client/file-digest.js";
import { toLiteralMap } from "../../../client/type-engine.js";

let dir: string;
const md5 = (b: Uint8Array | string) => createHash("md5").update(b).digest();

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-unit-files-"));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("digests", () => {
  it("writes RFC 4648 base32 (the test vectors, and 16 MD5 bytes as 32 padded characters)", () => {
    const vectors = {
      "": "",
      f: "MY======",
      fo: "MZXQ====",
      foo: "MZXW6===",
      foob: "MZXW6YQ=",
      fooba: "MZXW6YTB",
    };
    for (const [plain, encoded] of Object.entries(vectors)) expect(base32(Buffer.from(plain))).toBe(encoded);
    expect(base32(Buffer.from("foobar"))).toBe("MZXW6YTBOI======");
    expect(base32(md5("x"))).toMatch(/^[A-Z2-7]{26}======$/);
  });

  it("hashes a file larger than one read chunk as one streamed MD5", async () => {
    const file = path.join(dir, "big.bin");
    const bytes = Buffer.alloc(300_000, 7);
    bytes.write("head");
    fs.writeFileSync(file, bytes);
    const d = await digestFile(file);
    expect(d.size).toBe(bytes.length);
    expect(d.md5.equals(md5(bytes))).toBe(true);
  });

  it("names a directory by the MD5 of its files' MD5s in key order, skipping symbolic links", async () => {
    const root = path.join(dir, "tree");
    fs.mkdirSync(path.join(root, "b"), { recursive: true });
    fs.writeFileSync(path.join(root, "z.txt"), "zed");
    fs.writeFileSync(path.join(root, "b", "a.txt"), "ay");
    fs.writeFileSync(path.join(root, "a.txt"), "a");
    fs.symlinkSync(path.join(root, "a.txt"), path.join(root, "link.txt"));
    const files = await digestDirectory(root);
    expect(files.map((f) => f.key)).toEqual(["a.txt", "b/a.txt", "z.txt"]);
    expect(directoryRoot(files)).toBe(base32(md5(Buffer.concat([md5("a"), md5("ay"), md5("zed")]))));
  });
});

describe("literals", () => {
  it("tells remote URIs from local paths", () => {
    for (const u of ["s3://b/k", "file:///tmp/x", "gs://b/x", "https://h/x", "http://h:1/x", "flyte://v1/p"])
      expect(isRemoteUri(u)).toBe(true);
    for (const p of ["data.csv", "./d/", "/abs/path", "C:\\data", "s3:/one-slash", "@./x"])
      expect(isRemoteUri(p)).toBe(false);
  });

  it("finds blobs through lists, maps and optionals, naming where they sit", () => {
    const map = toLiteralMap(
      { one: "a.txt", many: ["b", "c"], byName: { k: "d" }, maybe: "e", none: null },
      {
        one: t.file.literalType,
        many: t.list(t.file).literalType,
        byName: t.map(t.directory).literalType,
        maybe: t.optional(t.file).literalType,
        none: t.optional(t.file).literalType,
      },
    );
    expect(blobsOfMap(map).map((b) => [b.where, b.blob.uri])).toEqual([
      ["one", "a.txt"],
      ["many/0", "b"],
      ["many/1", "c"],
      ["byName/k", "d"],
      ["maybe", "e"],
    ]);
  });
});

describe("directory listings", () => {
  it("reads the server's listing, and refuses keys that would leave the directory or entries it cannot use", () => {
    const files = [
      { key: "a/b.txt", size: 3, url: "http://127.0.0.1:1/api/v1/blobs/d/a/b.txt?signature=x" },
      { key: "c", size: 0, url: "https://bucket.example.com/d/c?X-Amz-Signature=y" },
    ];
    expect(parseListing(JSON.stringify({ format: LISTING_FORMAT, files }), "l")).toEqual(files);
    const listing = (entry: object) => JSON.stringify({ format: LISTING_FORMAT, files: [entry] });
    for (const key of ["../x", "/abs", "a/../../b", "a//b", "a\\b", ".", ""]) {
      expect(() => parseListing(listing({ key, size: 1, url: "http://h/x" }), "l")).toThrow(
        /unsafe file key/,
      );
    }
    for (const bad of [
      { key: "k", size: -1, url: "http://h/x" },
      { key: "k", size: 1.5, url: "http://h/x" },
      { key: "k", size: 1, url: "file:///etc/passwd" },
      { key: "k", size: 1 },
    ]) {
      expect(() => parseListing(listing(bad), "l")).toThrow(/bad entry for k/);
    }
    expect(() => parseListing("{}", "l")).toThrow(/not a directory listing/);
    expect(() => parseListing("[", "l")).toThrow(/not a directory listing \(not JSON\)/);
  });

  it("lays blobs out under a directory without climbing out of it", () => {
    expect(localPathOf("/out", "files/0")).toBe(path.join("/out", "files", "0"));
    expect(localPathOf("/out", "m/../..")).toBe(path.join("/out", "m", "%2E%2E", "%2E%2E"));
    expect(localPathOf("/out", "m/")).toBe(path.join("/out", "m", "%"));
  });
});

describe("helpers", () => {
  it("parses --input k=@PATH as an absolute local path, and refuses a missing one", () => {
    const file = path.join(dir, "in.csv");
    fs.writeFileSync(file, "x");
    expect(parseInputs([`data=@${path.relative(process.cwd(), file)}`, "n=3", 'handle="@me"'])).toEqual({
      data: file,
      n: 3,
      handle: "@me",
    });
    expect(() => parseInputs([`data=@${path.join(dir, "nope")}`])).toThrow(/no such file or directory/);
  });

  it("runs at most `limit` at a time and starts no new item once a failure is seen", async () => {
    let running = 0;
    let most = 0;
    let startedAtFailure = -1;
    const started: number[] = [];
    let open = () => {};
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const work = mapLimit([0, 1, 2, 3, 4, 5], 2, async (i) => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      if (i === 1) {
        await gate;
        running--;
        startedAtFailure = started.length;
        throw new Error("boom");
      }
      await new Promise((r) => setImmediate(r));
      running--;
      if (i === 2) open();
      return i;
    });
    await expect(work).rejects.toThrow("boom");
    expect(most).toBe(2);
    expect(started.slice(0, 3)).toEqual([0, 1, 2]);
    // Only a lane already past its check when the failure lands may start one more item.
    expect(started.length).toBeLessThanOrEqual(startedAtFailure + 1);
    expect(started).not.toContain(4);
    expect(started).not.toContain(5);
    expect(await mapLimit([3, 1, 2], 2, async (x) => x * 2)).toEqual([6, 2, 4]);
  });

  it("rewrites a launch plan's local file default in a copy, leaving the definition as written", () => {
    const echo = task({ name: "u.echo", inputs: { f: t.file }, outputs: {} }, () => ({}));
    const wf = workflow({ name: "u.wf", inputs: { f: t.file }, outputs: {} }, ({ f }) => {
      echo({ f });
      return {};
    });
    const lp = launchPlan({ workflow: wf, name: "u.lp", defaultInputs: { f: "local.txt" } });
    const where = { project: "p", domain: "d" };
    const plain = serialize([lp], where);
    const rewritten = serialize([lp], { ...where, blobUri: (uri) => `s3://b/${uri}` });
    const uriOf = (r: typeof plain) => {
      const req = r.launchPlans.find((x) => x.id?.name === "u.lp");
      if (req === undefined) throw new Error("no launch plan u.lp");
      const literals = launchPlanLiterals(req);
      return blobsOfMap({ $typeName: "flyteidl.core.LiteralMap", literals })[0]?.blob.uri;
    };
    expect(uriOf(rewritten)).toBe("s3://b/local.txt");
    expect(uriOf(serialize([lp], where))).toBe("local.txt");
    expect(rewritten.version).not.toBe(plain.version);
  });
});
