import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterAll, describe, expect, it } from "vitest";
import { LiteralMapSchema } from "../../../gen/flyteidl/core/literals_pb.js";
import { ContainerSchema } from "../../../gen/flyteidl/core/tasks_pb.js";
import {
  type ContainerRuntime,
  createContainerPlugin,
  renderArgs,
} from "../../../server/engine/plugins/container-plugin.js";
import {
  containerName,
  containerSpec,
  dockerMounts,
  leftoverContainers,
} from "../../../server/engine/plugins/docker-runtime.js";
import { LocalBlobStore } from "../../../server/storage/local-blob-store.js";
import { HmacUrlSigner } from "../../../server/storage/signed-urls.js";
import type { RunnerArgs } from "../../fixtures/container-task-runner.js";
import { literalInt, literalString, taskTemplate } from "../../fixtures/flyte-builders.js";
import { eventually } from "../../support/eventually.js";
import { alive, processesWith } from "../../support/processes.js";

const dirs = { input: "/tmp/a/in", output: "/tmp/a/out", raw: "/tmp/a/raw" };
const varsFor = (d: typeof dirs) => ({
  input: `${d.input}/inputs.pb`,
  inputPrefix: d.input,
  outputPrefix: d.output,
  rawOutputDataPrefix: d.raw,
  checkpointOutputPrefix: `${d.raw}/_flytecheckpoints`,
  prevCheckpointPrefix: '""',
  perRetryUniqueKey: "p-d-e1-n0-0",
  taskTemplatePath: `${d.input}/task.pb`,
  namespace: "p-d",
});
const inputs = create(LiteralMapSchema, { literals: { n: literalInt(3), who: literalString("x y") } });

describe("container contract", () => {
  it("substitutes Flyte's template variables", () => {
    const c = create(ContainerSchema, { image: "alpine" });
    expect(
      renderArgs(
        [
          "{{.inputs.n}}",
          "{{ .inputs.who }}",
          "{{.input}}",
          "{{.inputPrefix}}",
          "{{.outputPrefix}}",
          "{{.rawOutputDataPrefix}}",
        ],
        c,
        inputs,
        varsFor(dirs),
        dirs,
      ),
    ).toEqual(["3", "x y", "/tmp/a/in/inputs.pb", "/tmp/a/in", "/tmp/a/out", "/tmp/a/raw"]);
  });

  it("maps data_config paths onto the attempt's directories when run as a process", () => {
    const c = create(ContainerSchema, {
      image: "alpine",
      dataConfig: { enabled: true, inputPath: "/var/inputs", outputPath: "/var/outputs" },
    });
    expect(renderArgs(["cat /var/inputs/n > /var/outputs/o"], c, inputs, varsFor(dirs), dirs)).toEqual([
      "cat /tmp/a/in/n > /tmp/a/out/o",
    ]);
  });

  it("runs the image in Docker with the attempt's directories and the store mounted where the task expects them", () => {
    const c = create(ContainerSchema, {
      image: "ghcr.io/acme/task:1",
      command: ["python", "main.py"],
      args: ["{{.outputPrefix}}", "{{.rawOutputDataPrefix}}"],
      dataConfig: { enabled: true, inputPath: "/var/inputs", outputPath: "/var/outputs" },
      resources: {
        limits: [
          { name: 1, value: "500m" },
          { name: 3, value: "64Mi" },
        ],
      },
    });
    const { paths, binds } = dockerMounts(c, dirs, "/tmp");
    expect(paths).toEqual({ input: "/var/inputs", output: "/var/outputs", raw: "/tmp/a/raw" });
    expect(binds).toEqual([
      "/tmp:/tmp:ro",
      "/tmp/a/in:/var/inputs",
      "/tmp/a/out:/var/outputs",
      "/tmp/a/raw:/tmp/a/raw",
    ]);
    const argv = renderArgs([...c.command, ...c.args], c, inputs, varsFor(paths), paths, false);
    expect(containerSpec(c, argv, { A: "1" }, binds, { "petrel.node": "n0" })).toEqual({
      Image: "ghcr.io/acme/task:1",
      Entrypoint: ["python"],
      Cmd: ["main.py", "/var/outputs", "/tmp/a/raw"],
      Env: ["A=1"],
      Labels: { "petrel.node": "n0" },
      HostConfig: { Binds: binds, NanoCpus: 500_000_000, Memory: 64 * 2 ** 20 },
    });
    // Without data_config, outputs stay at their own path; object-store prefixes are not mounted.
    const plain = dockerMounts(
      create(ContainerSchema, { image: "x" }),
      { ...dirs, raw: "s3://b/raw" },
      undefined,
    );
    expect(plain).toEqual({
      paths: { input: "/var/flyte/inputs", output: "/tmp/a/out", raw: "s3://b/raw" },
      binds: ["/tmp/a/in:/var/flyte/inputs", "/tmp/a/out:/tmp/a/out"],
    });
  });

  it("names an attempt's container the same every time, and apart from every other attempt's", () => {
    const at = { project: "p", domain: "development", executionName: "run_1", nodeId: "n0" };
    const name = containerName(at, 2);
    expect(name).toBe(containerName({ ...at }, 2));
    expect(name).toMatch(/^petrel-run_1-n0-2-[0-9a-f]{12}$/);
    const others = [
      containerName(at, 1),
      containerName({ ...at, nodeId: "n1" }, 2),
      containerName({ ...at, executionName: "run-1" }, 2),
      containerName({ ...at, domain: "staging" }, 2),
      containerName({ ...at, project: "q" }, 2),
    ];
    expect(new Set([name, ...others]).size).toBe(6);
    expect(leftoverContainers(at, 2)).toEqual([0, 1, 2].map((a) => containerName(at, a)));
  });
});

// ---- Running tasks: real processes, a stand-in `docker`, and a stand-in server killed with SIGKILL.

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-container-plugin-"));
const runners: ChildProcess[] = [];
afterAll(() => {
  for (const r of runners) if (r.exitCode === null && r.signalCode === null) r.kill("SIGKILL");
  fs.rmSync(scratch, { recursive: true, force: true });
});

const TAG = "PETREL_TEST_TAG";
const newTag = () => randomBytes(6).toString("hex");
const tagged = (tag: string): number[] => processesWith(`${TAG}=${tag}`);
const at = { executionName: "e1", project: "p", domain: "d", nodeId: "n0" };

function context(command: string[], envs: Record<string, string>, signal: AbortSignal, attempt = 0) {
  const workDir = fs.mkdtempSync(path.join(scratch, "attempt-"));
  const store = new LocalBlobStore(path.join(scratch, "blobs"), new HmacUrlSigner(randomBytes(32)));
  return {
    ...at,
    template: taskTemplate({ command, image: "alpine:3" }),
    inputs: create(LiteralMapSchema),
    attempt,
    envs,
    signal,
    workDir,
    io: {
      store,
      inputUri: store.uri("in", String(attempt), "inputs.pb"),
      outputPrefix: store.uri("out", path.basename(workDir)),
      rawPrefix: store.uri("raw", path.basename(workDir)),
      uniqueKey: `p-d-e1-n0-${attempt}`,
    },
  };
}

/** Runs an attempt in a separate Node process (the server that owns the task), to be killed. */
function startRunner(
  runtime: ContainerRuntime,
  command: string[],
  envs: Record<string, string>,
): ChildProcess {
  const args: RunnerArgs = {
    runtime,
    workDir: fs.mkdtempSync(path.join(scratch, "attempt-")),
    command,
    envs,
    attempt: 0,
  };
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.resolve(import.meta.dirname, "../../fixtures/container-task-runner.ts"),
      JSON.stringify(args),
    ],
    { stdio: "ignore" },
  );
  runners.push(child);
  return child;
}

describe("task processes", () => {
  it("keep their output, exit code and missing-command errors", async () => {
    const plugin = createContainerPlugin("process");
    const signal = new AbortController().signal;
    const failed = await plugin.run(context(["sh", "-c", "echo out; echo err >&2; exit 3"], {}, signal));
    expect(failed).toMatchObject({
      ok: false,
      error: { code: "NonZeroExitCode", message: "exit code 3: err" },
      logs: { stdout: "out\n", stderr: "err\n" },
    });
    const missing = await plugin.run(context(["no-such-command-petrel"], {}, signal));
    expect(missing).toMatchObject({ ok: false, error: { code: "CommandNotFound" } });
  });

  it("stream their output to the attempt's log sink as it comes", async () => {
    const seen: string[] = [];
    const logs = { write: (s: "stdout" | "stderr", d: Buffer) => seen.push(`${s}:${d.toString()}`) };
    const signal = new AbortController().signal;
    const result = await createContainerPlugin("process").run({
      ...context(["sh", "-c", "echo one; echo two >&2"], {}, signal),
      logs,
    });
    expect(result.ok).toBe(true);
    expect(seen.sort()).toEqual(["stderr:two\n", "stdout:one\n"]);
  });

  it("are stopped as a whole group when the attempt is aborted", async () => {
    const tag = newTag();
    const abort = new AbortController();
    const run = createContainerPlugin("process").run(
      context(["sh", "-c", "sleep 30 | cat & sleep 30"], { [TAG]: tag }, abort.signal),
    );
    await eventually(
      async () => tagged(tag).length,
      (n) => n >= 4,
    );
    abort.abort();
    expect(await run).toMatchObject({ ok: false, error: { code: "Aborted" } });
    await eventually(
      async () => tagged(tag),
      (pids) => pids.length === 0,
      5_000,
    );
  });

  it("leave nothing running after the main process exits", async () => {
    const tag = newTag();
    const result = await createContainerPlugin("process").run(
      context(
        ["sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $! > pid"],
        { [TAG]: tag },
        new AbortController().signal,
      ),
    );
    expect(result.ok).toBe(true);
    await eventually(
      async () => tagged(tag),
      (pids) => pids.length === 0,
      5_000,
    );
  });

  it("die with the server that runs them, even when it is killed with SIGKILL", async () => {
    const tag = newTag();
    const runner = startRunner(
      "process",
      ["sh", "-c", 'sleep 30 | cat & python3 -c \'import subprocess; subprocess.run(["sleep", "30"])\''],
      { [TAG]: tag },
    );
    // sh, sleep | cat, python3 and its sleep
    const before = await eventually(
      async () => tagged(tag),
      (pids) => pids.length >= 5,
    );
    runner.kill("SIGKILL");
    await eventually(
      async () => before.filter(alive),
      (pids) => pids.length === 0,
      5_000,
    );
  });
});
