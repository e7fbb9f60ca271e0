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
  containerName,
  createContainerPlugin,
  dockerArgv,
  leftoverContainers,
  renderArgs,
  taskPaths,
} from "../../../server/engine/plugins/container-plugin.js";
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

  it("runs the image with Docker, mounting the attempt's directories where the task expects them", () => {
    const c = create(ContainerSchema, {
      image: "ghcr.io/acme/task:1",
      command: ["python", "main.py"],
      args: ["{{.outputPrefix}}"],
      dataConfig: { enabled: true, inputPath: "/var/inputs", outputPath: "/var/outputs" },
    });
    const paths = taskPaths(c, dirs, "docker");
    const argv = dockerArgv(
      c,
      renderArgs([...c.command, ...c.args], c, inputs, varsFor(paths), paths, false),
      dirs,
      paths,
      { A: "1" },
      "petrel-x",
    );
    expect(argv).toEqual([
      "docker",
      "run",
      "--rm",
      "--name",
      "petrel-x",
      "-v",
      "/tmp/a/in:/var/inputs",
      "-v",
      "/tmp/a/out:/var/outputs",
      "-v",
      "/tmp/a/raw:/var/flyte/raw",
      "-e",
      "A=1",
      "--entrypoint",
      "python",
      "ghcr.io/acme/task:1",
      "main.py",
      "/var/outputs",
    ]);
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

/**
 * A stand-in for the Docker CLI and daemon: a "container" runs in a session of its own, so it outlives the client
 * as a real one does, until `docker rm --force` kills it. Calls are logged to `<state>/log`.
 */
function fakeDocker(): { path: string; state: string; log(): string[]; containerPid(name: string): number } {
  const bin = fs.mkdtempSync(path.join(scratch, "bin-"));
  const state = fs.mkdtempSync(path.join(scratch, "docker-"));
  fs.writeFileSync(
    path.join(bin, "docker"),
    `#!/bin/sh
state='${state}'
echo "$*" >> "$state/log"
cmd=$1; shift
case "$cmd" in
rm)
  [ "$1" = --force ] && shift
  for n in "$@"; do
    [ -f "$state/$n" ] && kill -KILL "$(cat "$state/$n")" 2>/dev/null
  done ;;
run)
  entry=
  while [ $# -gt 0 ]; do
    case "$1" in
      --name) name=$2; shift 2 ;;
      -v|-e) shift 2 ;;
      --entrypoint) entry=$2; shift 2 ;;
      --rm) shift ;;
      *) break ;;
    esac
  done
  shift
  setsid sh -c 'echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$state/$name" $entry "$@" </dev/null >/dev/null 2>&1 &
  wait $! ;;
esac
`,
    { mode: 0o755 },
  );
  return {
    path: `${bin}:/usr/local/bin:/usr/bin:/bin`,
    state,
    log: () => {
      const file = path.join(state, "log");
      return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : [];
    },
    containerPid: (name) => Number(fs.readFileSync(path.join(state, name), "utf8")),
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

describe("Docker tasks", () => {
  it("remove the containers of this and earlier attempts before running", async () => {
    const docker = fakeDocker();
    const ctx = context(["true"], { PATH: docker.path }, new AbortController().signal, 2);
    const result = await createContainerPlugin("docker").run(ctx);
    expect(result.ok).toBe(true);
    const names = leftoverContainers(at, 2);
    const log = docker.log();
    expect(log).toHaveLength(2);
    expect(log[0]).toBe(`rm --force ${names.join(" ")}`);
    expect(log[1]).toMatch(new RegExp(`^run --rm --name ${names[2]} `));
  });

  it("remove the container when the attempt is aborted", async () => {
    const docker = fakeDocker();
    const abort = new AbortController();
    const name = containerName(at, 0);
    const run = createContainerPlugin("docker").run(
      context(["sleep", "30"], { PATH: docker.path }, abort.signal),
    );
    await eventually(
      async () => fs.existsSync(path.join(docker.state, name)),
      (exists) => exists,
    );
    const container = docker.containerPid(name);
    abort.abort();
    expect(await run).toMatchObject({ ok: false, error: { code: "Aborted" } });
    expect(docker.log().at(-1)).toBe(`rm --force ${name}`);
    await eventually(
      async () => alive(container),
      (isAlive) => !isAlive,
      5_000,
    );
  });

  it("remove the container when the server that runs it is killed with SIGKILL", async () => {
    const docker = fakeDocker();
    const name = containerName(at, 0);
    const runner = startRunner("docker", ["sleep", "30"], { PATH: docker.path });
    await eventually(
      async () => fs.existsSync(path.join(docker.state, name)),
      (exists) => exists,
    );
    const container = docker.containerPid(name);
    expect(alive(container)).toBe(true);
    runner.kill("SIGKILL");
    await eventually(
      async () => alive(container),
      (isAlive) => !isAlive,
      5_000,
    );
    expect(docker.log().filter((l) => l === `rm --force ${name}`)).toHaveLength(2);
  });
});
