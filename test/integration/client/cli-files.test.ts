// `petrel run … --input k=@PATH` uploads local files and directories, `petrel download EXECUTION [DIR]` writes the
// outputs: the CLI as a subprocess (working directory: a scratch directory, so `@./…` paths are relative to it)
// against a real server, with this process's Worker serving the TS function tasks.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FriendlyRemote, Worker } from "../../../client/index.js";
import { both, reverse, tree } from "../../fixtures/files-module.js";
import { exited } from "../../support/server-process.js";
import { startTestServer, type TestServer } from "../../support/test-server.js";

const BIN = path.resolve(import.meta.dirname, "../../../bin/petrel.js");
let server: TestServer;
let remote: FriendlyRemote;
let worker: Worker;
let cwd: string;

async function cli(...args: string[]) {
  const child = spawn(
    process.execPath,
    [BIN, "--endpoint", server.grpcAddress, "--project", "clifiles", ...args],
    {
      cwd,
      env: { PATH: process.env.PATH ?? "", HOME: cwd },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const code = await exited(child);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  server = await startTestServer();
  remote = FriendlyRemote.forEndpoint(server.grpcAddress, {
    insecure: true,
    project: "clifiles",
    domain: "development",
  });
  await remote.client.registerProject({ project: { id: "clifiles", name: "clifiles" } });
  await remote.register(both);
  worker = new Worker({
    client: remote.client,
    pollWaitMs: 500,
    tasks: { [reverse.name]: reverse.fn as never, [tree.name]: tree.fn as never },
  }).start();
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-cli-files-"));
  fs.writeFileSync(path.join(cwd, "local.csv"), "a,b\n1,2\n");
  fs.mkdirSync(path.join(cwd, "dir", "nested"), { recursive: true });
  fs.writeFileSync(path.join(cwd, "dir", "one.txt"), "one\n");
  fs.writeFileSync(path.join(cwd, "dir", "nested", "two.txt"), "two\n");
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await remote?.close();
  await server?.stop();
  if (cwd !== undefined) fs.rmSync(cwd, { recursive: true, force: true });
});

describe("petrel CLI with files", () => {
  it("run uploads @./file and @./dir/ inputs; download writes files, directories and outputs.json", async () => {
    const run = await cli(
      "run",
      "workflow",
      "files.both",
      "--input",
      "data=@./local.csv",
      "--input",
      "dir=@./dir/",
      "--wait",
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const name = /execution ([a-z0-9]+) created/.exec(run.stdout)?.[1] ?? "";
    const printed = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}");
    expect(printed.out).toMatch(/^file:\/\/.*\/reversed-local\.csv$/);
    expect(printed.keys).toEqual(["nested/two.txt", "one.txt"]);
    const exe = await remote.fetchExecution(name);
    expect((await exe.inputs()).data).toMatch(
      /^file:\/\/.*\/clifiles\/development\/[A-Z2-7]{26}======\/local\.csv$/,
    );

    const dl = await cli("download", name, "out");
    expect(dl.stderr).toBe("");
    expect(dl.code).toBe(0);
    expect(dl.stdout).toContain("out: out/out");
    expect(dl.stdout).toContain("copy: out/copy");
    expect(fs.readFileSync(path.join(cwd, "out", "out"), "utf8")).toBe([..."a,b\n1,2\n"].reverse().join(""));
    expect(fs.readFileSync(path.join(cwd, "out", "copy", "nested", "two.txt"), "utf8")).toBe("two\n");
    expect(fs.readFileSync(path.join(cwd, "out", "copy", "one.txt"), "utf8")).toBe("one\n");
    expect(fs.readFileSync(path.join(cwd, "out", "copy", "MANIFEST"), "utf8")).toBe(
      "nested/two.txt\none.txt\n",
    );
    expect(JSON.parse(fs.readFileSync(path.join(cwd, "out", "outputs.json"), "utf8"))).toEqual({
      out: path.join(cwd, "out", "out"),
      size: 8,
      keys: ["nested/two.txt", "one.txt"],
      copy: path.join(cwd, "out", "copy"),
    });

    // Without a directory: ./<execution>.
    const again = await cli("download", name);
    expect(again.code).toBe(0);
    expect(fs.readFileSync(path.join(cwd, name, "out"), "utf8")).toBe([..."a,b\n1,2\n"].reverse().join(""));
  });

  it("names a missing @path, an unknown execution and a failed one, in one line each", async () => {
    const missing = await cli("run", "workflow", "files.both", "--input", "data=@./nope.csv");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `petrel: --input data=@./nope.csv: no such file or directory ${path.join(cwd, "nope.csv")}\n`,
    );
    const unknown = await cli("download", "nosuchexecution");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^petrel: .*nosuchexecution.*\n$/);
    // The worker cannot fetch a file from a store the server does not own: the attempt fails, nothing to download.
    const failed = await remote.execute(reverse, { data: "s3://nowhere/x.csv" }, { serveTasks: false });
    await failed.wait({ timeoutMs: 30_000 });
    const dl = await cli("download", failed.name);
    expect(dl.code).toBe(1);
    expect(dl.stderr).toMatch(
      new RegExp(
        `^petrel: execution ${failed.name} is FAILED: .*downloading inputs: data: cannot download s3://nowhere/x\\.csv: .*not a blob of this store; it has no outputs to download\n$`,
      ),
    );
  });
});
