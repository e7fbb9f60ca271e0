// Files and directories through the TypeScript client on a real server, on each store (local filesystem, and S3 on
// the S3 test server): local paths given to execute() are uploaded through CreateUploadLocation + the signed PUT, TS
// function tasks (served by this process's Worker) get local paths and return local paths that the worker uploads,
// and outputs come back through the signed GET URLs — a directory through the server's listing of it, whoever wrote it
// (this client, flytekit, a container task).
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestFile } from "../../../client/file-digest.js";
import {
  BlobNotFoundError,
  FriendlyRemote,
  launchPlan,
  TypeMismatchError,
  t,
  task,
  toLiteral,
  workflow,
} from "../../../client/index.js";
import { WorkflowExecution_Phase as W } from "../../../gen/flyteidl/core/execution_pb.js";
import { DataLoadingConfigSchema } from "../../../gen/flyteidl/core/tasks_pb.js";
import { both, reverse, seen, tree } from "../../fixtures/files-module.js";
import { taskId, taskTemplate } from "../../fixtures/flyte-builders.js";
import { base32, md5 } from "../../support/data-proxy.js";
import { storeSubjects } from "../../support/store-subjects.js";
import { startTestServer, type TestServer } from "../../support/test-server.js";

let server: TestServer;
let remote: FriendlyRemote;
let scratch: string;
const P = { project: "files", domain: "development" };

/** Files of a directory tree, by `/`-separated key. */
function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile())
      out[path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/")] = fs
        .readFileSync(path.join(e.parentPath, e.name))
        .toString("hex");
  return out;
}

/** A directory with nested files (one binary), returned with its files' contents by key. */
function makeTree(name: string, salt: string): string {
  const dir = path.join(scratch, name);
  fs.mkdirSync(path.join(dir, "sub", "deeper"), { recursive: true });
  fs.writeFileSync(path.join(dir, "a.txt"), `alpha ${salt}\n`);
  fs.writeFileSync(path.join(dir, "sub", "b.bin"), Buffer.from([0, 1, 2, 255, 254, 10, 13]));
  fs.writeFileSync(path.join(dir, "sub", "deeper", "c.txt"), `gamma ${salt}\n`.repeat(1000));
  return dir;
}

const stores = storeSubjects();

describe.each(stores)("files and directories through the TypeScript client on the $name store", (store) => {
  const stored = new RegExp(`^${store.scheme}://`);

  beforeAll(async () => {
    server = await startTestServer({ env: await store.env() });
    remote = FriendlyRemote.forEndpoint(server.grpcAddress, { insecure: true, ...P });
    await remote.client.registerProject({ project: { id: P.project, name: P.project } });
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-client-files-"));
  });
  afterAll(async () => {
    await remote?.close();
    await server?.stop();
    await store.stop();
    if (scratch !== undefined) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it("uploads a local t.file input, runs a TS task on a local copy, and downloads its t.file output byte for byte", async () => {
    const input = path.join(scratch, "data.csv");
    const bytes = Buffer.concat([
      Buffer.from("id,value\n1,héllo\n"),
      createHash("sha256").update("x").digest(),
    ]);
    fs.writeFileSync(input, bytes);
    // A relative path is resolved against the working directory.
    const exe = await remote.execute(
      both,
      { data: path.relative(process.cwd(), input), dir: makeTree("in", "1") },
      { wait: true },
    );
    expect(exe.error).toBeUndefined();
    expect(exe.phase).toBe(W.SUCCEEDED);

    // What the server got: the upload's native URL, at flytekit's content-MD5 path.
    const sent = (await exe.inputs()) as { data: string };
    expect(sent.data).toMatch(stored);
    expect(sent.data.endsWith(`/${P.project}/${P.domain}/${base32(md5(bytes))}/data.csv`)).toBe(true);
    // What the function got: a local file (not the URI), named as the upload was.
    expect(seen.data).not.toMatch(/^[a-z]+:\/\//);
    expect(path.isAbsolute(seen.data ?? "")).toBe(true);
    expect(path.basename(seen.data ?? "")).toBe("data.csv");

    const out = (await exe.outputs()) as { out: string; size: number };
    expect(out.size).toBe(bytes.length);
    expect(out.out).toMatch(stored);
    expect(out.out).toMatch(/\/reversed-data\.csv$/);
    const dest = path.join(scratch, "downloaded.csv");
    expect(await remote.download(out.out, dest)).toBe(dest);
    expect(fs.readFileSync(dest).equals(Buffer.from(bytes).reverse())).toBe(true);
    // Into an existing directory, a file keeps its name.
    fs.mkdirSync(path.join(scratch, "into"));
    const named = await remote.download(out.out, path.join(scratch, "into"));
    expect(named).toBe(path.join(scratch, "into", "reversed-data.csv"));
    expect(fs.readFileSync(named).equals(Buffer.from(bytes).reverse())).toBe(true);
  });

  it("uploads a local t.directory under flytekit's filename_root, and downloads the task's directory output", async () => {
    const dir = makeTree("tree", "2");
    const exe = await remote.execute(both, { data: path.join(dir, "a.txt"), dir }, { wait: true });
    expect(exe.phase).toBe(W.SUCCEEDED);
    const sent = (await exe.inputs()) as { dir: string };
    // filename_root = base32(md5 of the files' md5s in key order): a.txt, sub/b.bin, sub/deeper/c.txt.
    const keys = ["a.txt", "sub/b.bin", "sub/deeper/c.txt"];
    const root = base32(
      md5(Buffer.concat(keys.map((k) => md5(fs.readFileSync(path.join(dir, ...k.split("/"))))))),
    );
    expect(sent.dir.endsWith(`/${P.project}/${P.domain}/${root}`)).toBe(true);
    expect(seen.dir).not.toMatch(/^[a-z]+:\/\//);
    // Nothing is written beside a directory: the uploads area holds its files and the other uploads' only.
    const area = await remote.client.createDownloadLocation({
      nativeUrl: `${sent.dir.slice(0, -root.length)}`,
    });
    const inArea = ((await (await fetch(area.signedUrl)).json()) as { files: { key: string }[] }).files;
    expect(inArea.map((f) => f.key)).toEqual(expect.arrayContaining(keys.map((k) => `${root}/${k}`)));
    expect(inArea.filter((f) => f.key.startsWith(root) && !f.key.startsWith(`${root}/`))).toEqual([]);
    expect(inArea.filter((f) => /\.listing\//.test(f.key))).toEqual([]);

    const out = (await exe.outputs()) as { keys: string[]; copy: string };
    expect(out.keys).toEqual(keys);
    const dest = path.join(scratch, "tree-out");
    expect(await remote.download(out.copy, dest)).toBe(dest);
    expect(readTree(dest)).toEqual({
      ...readTree(dir),
      MANIFEST: Buffer.from(`${keys.join("\n")}\n`).toString("hex"),
    });

    // All outputs at once: blobs by output name, every value in outputs.json.
    const all = path.join(scratch, "all-out");
    const values = await exe.downloadOutputs(all);
    expect(values).toEqual({
      out: path.join(all, "out"),
      size: 8,
      keys,
      copy: path.join(all, "copy"),
    });
    expect(fs.readFileSync(path.join(all, "out")).toString()).toBe(
      [...fs.readFileSync(path.join(dir, "a.txt")).toString()].reverse().join(""),
    );
    expect(readTree(path.join(all, "copy"))).toEqual(readTree(dest));
    expect(JSON.parse(fs.readFileSync(path.join(all, "outputs.json"), "utf8"))).toEqual(values);
  });

  it("re-uploads the same content to the same place, and new content elsewhere", async () => {
    const file = path.join(scratch, "again.txt");
    fs.writeFileSync(file, "same bytes\n");
    const first = await remote.upload(file);
    expect(await remote.upload(file)).toBe(first);
    const dir = makeTree("again-dir", "3");
    const firstDir = await remote.upload(dir);
    // The second directory upload asks for caller-chosen paths that exist: allowed because the MD5s match.
    expect(await remote.upload(dir)).toBe(firstDir);
    // Two executions with the same local file send the same URI.
    const a = await remote.execute(reverse, { data: file }, { wait: true });
    const b = await remote.execute(reverse, { data: file }, { wait: true });
    expect([a.phase, b.phase]).toEqual([W.SUCCEEDED, W.SUCCEEDED]);
    expect((await a.inputs()).data).toBe(first);
    expect((await b.inputs()).data).toBe(first);

    fs.writeFileSync(file, "other bytes\n");
    expect(await remote.upload(file)).not.toBe(first);
    fs.appendFileSync(path.join(dir, "a.txt"), "more\n");
    expect(await remote.upload(dir)).not.toBe(firstDir);
    // flytekit names a directory by its files' MD5s alone: the same contents under other names collide.
    const renamed = path.join(scratch, `renamed-${store.name}`);
    fs.cpSync(dir, renamed, { recursive: true });
    fs.renameSync(path.join(renamed, "a.txt"), path.join(renamed, "aa.txt"));
    await remote.upload(dir);
    await expect(remote.upload(renamed)).rejects.toThrow(
      /a different directory with the same file contents under other names was uploaded/,
    );
  });

  it("passes remote URIs through unchanged, and a stored output URI serves as the next input", async () => {
    for (const uri of ["s3://elsewhere/data.csv", "gs://bucket/x/data.csv", "https://example.com/data.csv"]) {
      const exe = await remote.execute(reverse, { data: uri }, { serveTasks: false });
      expect((await exe.inputs()).data).toBe(uri);
      await remote.terminate(exe, "only the inputs were needed");
    }
    const input = path.join(scratch, "chain.txt");
    fs.writeFileSync(input, "abc");
    const first = await remote.execute(reverse, { data: input }, { wait: true });
    const stored = ((await first.outputs()) as { out: string }).out;
    const second = await remote.execute(reverse, { data: stored }, { wait: true });
    expect((await second.inputs()).data).toBe(stored);
    const back = await remote.download(
      ((await second.outputs()) as { out: string }).out,
      path.join(scratch, "chain-back.txt"),
    );
    expect(fs.readFileSync(back, "utf8")).toBe("abc");
  });

  it("lets the worker fetch an http(s) input itself, and fails the attempt as a SYSTEM error when it cannot fetch one", async () => {
    const url = `${server.httpBaseUrl}/healthz`;
    const health = Buffer.from(await (await fetch(url)).arrayBuffer());
    const ok = await remote.execute(reverse, { data: url }, { wait: true });
    expect(ok.error).toBeUndefined();
    expect((await ok.inputs()).data).toBe(url);
    const got = await remote.download(
      ((await ok.outputs()) as { out: string }).out,
      path.join(scratch, "health"),
    );
    expect(fs.readFileSync(got).equals(Buffer.from(health).reverse())).toBe(true);

    const bad = await remote.execute(reverse, { data: "s3://not-this-store/x.csv" }, { wait: true });
    expect(bad.phase).toBe(W.FAILED);
    const err = bad.execution.closure?.outputResult;
    // A system failure, retried on the system budget (3 attempts) before the node gives up, as propeller does.
    expect(err?.case === "error" ? err.value.code : undefined).toMatch(/^RetriesExhausted\|/);
    expect(bad.error).toMatch(
      /\[3\/3\] currentAttempt done\. Last Error: SYSTEM::downloading inputs: data: cannot download s3:\/\/not-this-store\/x\.csv: .*not a blob of this store/,
    );
  });

  it("downloads a directory written without this client (as flytekit's FlyteFS uploads it), and names what is missing", async () => {
    // Files under one filename_root, nothing beside them; one of them JSON that looks like a listing.
    const bodies: Record<string, Buffer> = {
      "x.txt": Buffer.from("from elsewhere\n"),
      "nested/fake.json": Buffer.from('{"format":"petrel.blob-listing/v1","files":[]}'),
    };
    const urls: Record<string, string> = {};
    for (const [key, body] of Object.entries(bodies)) {
      const loc = await remote.client.createUploadLocation({
        ...P,
        contentMd5: md5(body),
        filenameRoot: "FOREIGNROOT",
        filename: key,
        addContentMd5Metadata: true,
      });
      const put = await fetch(loc.signedUrl, { method: "PUT", body, headers: { ...loc.headers } });
      expect(put.status).toBe(200);
      urls[key] = loc.nativeUrl;
    }
    const dirUri = (urls["x.txt"] ?? "").slice(0, -"/x.txt".length);
    const expected = Object.fromEntries(Object.entries(bodies).map(([k, b]) => [k, b.toString("hex")]));
    // As a directory literal, as a plain URI (whatever the server answers), and with a trailing `/`.
    const dirLiteral = toLiteral(dirUri, t.directory.literalType);
    expect(readTree(await remote.download(dirLiteral, path.join(scratch, "foreign")))).toEqual(expected);
    expect(readTree(await remote.download(dirUri, path.join(scratch, "foreign-uri")))).toEqual(expected);
    expect(readTree(await remote.download(`${dirUri}/`, path.join(scratch, "foreign-slash")))).toEqual(
      expected,
    );
    // A stored JSON file, even one shaped like a listing, is a file.
    const fake = await remote.download(urls["nested/fake.json"] ?? "", path.join(scratch, "fake.json"));
    expect(fs.readFileSync(fake).equals(bodies["nested/fake.json"] ?? Buffer.alloc(0))).toBe(true);

    const none = toLiteral(`${dirUri}-NONE`, t.directory.literalType);
    await expect(remote.download(none, path.join(scratch, "none"))).rejects.toThrow(
      /nothing to download at .*FOREIGNROOT-NONE: no directory \(no file under it\) there/,
    );
    await expect(remote.download(none, path.join(scratch, "none"))).rejects.toThrow(BlobNotFoundError);
    await expect(remote.download(`${dirUri}-NONE`, path.join(scratch, "none"))).rejects.toThrow(
      /nothing to download at .*FOREIGNROOT-NONE: no file or directory there/,
    );
    // A file where a directory is expected.
    const fileAsDir = toLiteral(urls["x.txt"] ?? "", t.directory.literalType);
    await expect(remote.download(fileAsDir, path.join(scratch, "none"))).rejects.toThrow(BlobNotFoundError);
    expect(fs.existsSync(path.join(scratch, "none"))).toBe(false);
  });

  it("downloads a directory a container task wrote (data_config, a multipart Blob output)", async () => {
    const name = "files.container-dir";
    const script = [
      "mkdir -p /var/outputs/d/sub/deeper",
      "printf 'alpha\\n' > /var/outputs/d/a.txt",
      "printf 'beta' > /var/outputs/d/sub/b.txt",
      "printf 'gamma' > /var/outputs/d/sub/deeper/c.txt",
    ].join(" && ");
    await remote.client.createTask({
      id: taskId(name, "v1", P.project, P.domain),
      spec: {
        template: taskTemplate({
          outputs: { d: t.directory.literalType },
          command: ["sh", "-c", script],
          edit: (tt) => {
            if (tt.target.case === "container")
              tt.target.value.dataConfig = create(DataLoadingConfigSchema, {
                enabled: true,
                inputPath: "/var/inputs",
                outputPath: "/var/outputs",
              });
          },
        }),
      },
    });
    const exe = await remote.execute({ task: name, version: "v1" }, {}, { wait: true });
    expect(exe.error).toBeUndefined();
    expect(exe.phase).toBe(W.SUCCEEDED);
    const out = (await exe.outputs()) as { d: string };
    expect(out.d).toMatch(stored);
    const expected = {
      "a.txt": Buffer.from("alpha\n").toString("hex"),
      "sub/b.txt": Buffer.from("beta").toString("hex"),
      "sub/deeper/c.txt": Buffer.from("gamma").toString("hex"),
    };
    const dest = path.join(scratch, "container-dir");
    expect(await remote.download(out.d, dest)).toBe(dest);
    expect(readTree(dest)).toEqual(expected);
    const all = path.join(scratch, "container-out");
    expect(await exe.downloadOutputs(all)).toEqual({ d: path.join(all, "d") });
    expect(readTree(path.join(all, "d"))).toEqual(expected);
  });

  it("uploads a launch plan's default file input at registration, versioned by its content", async () => {
    const file = path.join(scratch, "default.txt");
    fs.writeFileSync(file, "default input\n");
    const lp = launchPlan({ workflow: wrapped, name: "files.with-default", defaultInputs: { data: file } });
    const reg = await remote.register(lp);
    const fetched = await remote.fetchLaunchPlan("files.with-default", reg.version);
    const param = fetched.spec?.defaultInputs?.parameters.data?.behavior;
    const uri =
      param?.case === "default" &&
      param.value.value.case === "scalar" &&
      param.value.value.value.value.case === "blob"
        ? param.value.value.value.value.value.uri
        : "";
    expect(uri.endsWith(`/${base32(md5(fs.readFileSync(file)))}/default.txt`)).toBe(true);
    const exe = await remote.execute(
      { launchPlan: "files.with-default", version: reg.version },
      {},
      { serveTasks: false },
    );
    expect((await exe.inputs()).data).toBe(uri);
    await remote.terminate(exe, "only the inputs were needed");
    fs.writeFileSync(file, "changed default\n");
    expect((await remote.register(lp)).version).not.toBe(reg.version);
  });

  it("refuses a missing local path or the wrong kind before creating an execution", async () => {
    const before = (await remote.recentExecutions({ limit: 1000 })).length;
    await expect(remote.execute(reverse, { data: path.join(scratch, "nope.csv") })).rejects.toThrow(
      TypeMismatchError,
    );
    await expect(remote.execute(reverse, { data: scratch })).rejects.toThrow(
      /data: expected a file, but .* is not one/,
    );
    await expect(remote.execute(tree, { dir: path.join(scratch, "data.csv") })).rejects.toThrow(
      /dir: expected a directory/,
    );
    // A blob store keeps no directory without files.
    const empty = path.join(scratch, `empty-${store.name}`);
    fs.mkdirSync(empty);
    await expect(remote.execute(tree, { dir: empty })).rejects.toThrow(
      /directory .*empty-.* has no files: a blob store keeps no empty directory/,
    );
    expect((await remote.recentExecutions({ limit: 1000 })).length).toBe(before);
  });

  it("fails the attempt as a user error when a task returns a local path that does not exist", async () => {
    const broken = task(
      { name: "files.broken", inputs: {}, outputs: { out: t.file } },
      (_i, { workDir }) => ({ out: path.join(workDir, "never-written.txt") }),
    );
    const exe = await remote.execute(broken, {}, { wait: true });
    expect(exe.phase).toBe(W.FAILED);
    expect(exe.error).toMatch(/out: expected a file: no such local path .*never-written\.txt/);
  });

  // The client's streaming does not depend on the store; the local one keeps this test fast.
  it.runIf(store.name === "local")("streams big files both ways without holding them in memory", async () => {
    const big = path.join(scratch, "big.bin");
    const chunk = Buffer.alloc(1 << 20);
    const fd = fs.openSync(big, "w");
    for (let i = 0; i < 192; i++) {
      chunk.writeUInt32LE(i, 0);
      chunk.fill(i & 0xff, 4);
      fs.writeSync(fd, chunk);
    }
    fs.closeSync(fd);
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    let back: string;
    try {
      back = await remote.download(await remote.upload(big), path.join(scratch, "big-back.bin"));
    } finally {
      clearInterval(sampler);
    }
    expect((peak - base) / 2 ** 20).toBeLessThan(96);
    expect(fs.statSync(back).size).toBe(192 << 20);
    expect((await digestFile(back)).md5.equals((await digestFile(big)).md5)).toBe(true);
  });
});

const wrapped = workflow(
  { name: "files.wrapped", inputs: { data: t.file }, outputs: { out: t.file } },
  ({ data }) => ({ out: reverse({ data }).out }),
);
