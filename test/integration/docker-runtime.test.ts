// `--task-runtime docker` against a real Docker daemon: container tasks run in Docker through the Engine API with their
// resource limits, their logs land in the store and are read back through the task execution's links and `petrel
// logs`, terminate and timeouts stop the container, a missing image fails the task (there is no registry here), and
// the containers a lost server left are removed by the next one. The image is built offline
// (scripts/docker-test-image.sh). Without a reachable daemon the suite is skipped, except in CI (.ci/run starts one).
import { execFileSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../client/cli/main.js";
import { containerTask, FriendlyRemote, t } from "../../client/index.js";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { DockerApi } from "../../server/engine/plugins/docker-api.js";
import { LABEL } from "../../server/engine/plugins/docker-runtime.js";
import { eventually } from "../support/eventually.js";
import { startServerProcess } from "../support/server-process.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const IMAGE = "petrel-test-base:busybox";
const PROJECT = "dockerrt";
const api = new DockerApi(process.env.PETREL_DOCKER_HOST);

/** Why the suite cannot run here, or undefined when it can (the image is built when missing). */
async function unavailable(): Promise<string | undefined> {
  try {
    await api.ping();
  } catch (err) {
    return `no Docker daemon at ${api.host} (${(err as Error).message}); start dockerd to run these tests`;
  }
  if (await api.hasImage(IMAGE)) return undefined;
  try {
    execFileSync(path.resolve(import.meta.dirname, "../../scripts/docker-test-image.sh"), { stdio: "pipe" });
    return undefined;
  } catch (err) {
    return `cannot build ${IMAGE}: ${(err as Error).message}`;
  }
}

const skipReason = await unavailable();
if (skipReason !== undefined) {
  if (process.env.CI === "true") throw new Error(`docker runtime tests need Docker in CI: ${skipReason}`);
  console.warn(`skipping the docker runtime tests: ${skipReason}`);
}

let server: TestServer;
let remote: FriendlyRemote;

const containersOf = (execution: string) =>
  api.listContainers([`${LABEL.execution}=${PROJECT}/development/${execution}`]);

const double = containerTask({
  name: "double",
  image: IMAGE,
  command: [
    "sh",
    "-c",
    "echo hello from $(hostname); echo warning >&2; echo $(( $(cat /var/inputs/x) * 2 )) > /var/outputs/o",
  ],
  inputs: { x: t.int },
  outputs: { o: t.int },
});
const limited = containerTask({
  name: "limited",
  image: IMAGE,
  command: ["sh", "-c", "for i in $(seq 1 300); do echo tick $i; sleep 0.2; done"],
  inputs: {},
  outputs: {},
  resources: { requests: { cpu: "250m", memory: "32Mi" }, limits: { cpu: "500m", memory: "64Mi" } },
});
const slow = containerTask({
  name: "slow",
  image: IMAGE,
  command: ["sleep", "300"],
  inputs: {},
  outputs: {},
  timeout: "2s",
});
const missing = containerTask({
  name: "missing-image",
  image: "petrel-no-such-image:1",
  command: ["true"],
  inputs: {},
  outputs: {},
});

beforeAll(async () => {
  if (skipReason !== undefined) return;
  server = await startTestServer({ env: { PETREL_TASK_RUNTIME: "docker", PETREL_ENGINE_LEASE_MS: "2000" } });
  remote = FriendlyRemote.forEndpoint(server.grpcAddress, {
    insecure: true,
    project: PROJECT,
    domain: "development",
  });
  await remote.client.registerProject({ project: { id: PROJECT, name: PROJECT } });
}, 60_000);
afterAll(async () => {
  await remote?.close();
  await server?.stop();
  api.close();
});

describe.skipIf(skipReason !== undefined)("the docker runtime", () => {
  it("runs a container task, returns its outputs and keeps its logs readable by link and by `petrel logs`", async () => {
    const exe = await remote.execute(double, { x: 21 }, { wait: true });
    expect(exe.phaseName).toBe("SUCCEEDED");
    expect(await exe.outputs()).toEqual({ o: 42 });
    const links = await exe.logs();
    expect(links.map((l) => l.name).sort()).toEqual(["stderr", "stdout"]);
    const stdout = links.find((l) => l.name === "stdout");
    const res = await fetch(stdout?.uri ?? "");
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^hello from \w+\n$/);
    const texts = await exe.readLogs();
    expect(texts.find((l) => l.name === "stderr")?.text).toBe("warning\n");
    const printed: string[] = [];
    const flags = ["--endpoint", server.grpcAddress, "--project", PROJECT];
    expect(await main(["logs", exe.name, ...flags], (s) => printed.push(s))).toBe(0);
    expect(printed.join("\n")).toContain("hello from");
    expect(printed.join("\n")).toContain("warning");
    expect(await containersOf(exe.name)).toEqual([]);
  }, 60_000);

  it("sets the task's CPU and memory limits, follows its logs live, and stops its container on terminate", async () => {
    const exe = await remote.execute(limited, {});
    const [running] = await eventually(
      () => containersOf(exe.name),
      (cs) => cs.length === 1 && cs[0]?.State === "running",
      30_000,
    );
    const inspect = await api.inspectContainer(running?.Id ?? "");
    expect(inspect.HostConfig).toMatchObject({
      NanoCpus: 500_000_000,
      Memory: 64 * 2 ** 20,
      MemoryReservation: 32 * 2 ** 20,
    });
    expect(inspect.Config.Labels).toMatchObject({ [LABEL.node]: expect.any(String), [LABEL.attempt]: "0" });
    const pieces: string[] = [];
    const follow = exe.followLogs((_, text) => pieces.push(text), { pollIntervalMs: 200 });
    // Read while it runs, piece by piece.
    await eventually(
      async () => pieces,
      (p) => p.length >= 2 && p.join("").includes("tick 3\n"),
      15_000,
    );
    expect(pieces.join("")).toMatch(/^tick 1\ntick 2\ntick 3\n/);
    await remote.terminate(exe, "enough");
    await follow;
    await eventually(
      () => containersOf(exe.name),
      (cs) => cs.length === 0,
      15_000,
    );
    expect((await exe.sync()).phase).toBe(W.ABORTED);
  }, 60_000);

  it("stops the container when the task times out", async () => {
    const started = Date.now();
    const exe = await remote.execute(slow, {}, { wait: true });
    expect(exe.phaseName).toBe("FAILED");
    expect(exe.error).toMatch(/timeout/i);
    expect(Date.now() - started).toBeLessThan(30_000);
    await eventually(
      () => containersOf(exe.name),
      (cs) => cs.length === 0,
      15_000,
    );
  }, 60_000);

  it("fails a task whose image cannot be pulled, as a task error", async () => {
    const exe = await remote.execute(missing, {}, { wait: true, timeoutMs: 30_000 });
    expect(exe.phaseName).toBe("FAILED");
    expect(exe.error).toContain('cannot pull image "petrel-no-such-image:1"');
  }, 60_000);

  it("removes the containers of a server killed with SIGKILL once another one runs", async () => {
    await remote.close();
    await server.server.stop(2_000);
    const env = { PETREL_TASK_RUNTIME: "docker", PETREL_ENGINE_LEASE_MS: "1500", PETREL_HOME: server.home };
    const proc = await startServerProcess(["--database-url", server.database.url], env);
    const doomed = FriendlyRemote.forEndpoint(`127.0.0.1:${proc.grpcPort}`, {
      insecure: true,
      project: PROJECT,
      domain: "development",
    });
    const exe = await doomed.execute(limited, {});
    const [orphan] = await eventually(
      () => containersOf(exe.name),
      (cs) => cs.length === 1 && cs[0]?.State === "running",
      30_000,
    );
    await doomed.close();
    await proc.stop("SIGKILL");
    expect((await api.inspectContainer(orphan?.Id ?? "")).State.Running).toBe(true);
    server = await startTestServer({ database: server.database, home: server.home, env });
    remote = FriendlyRemote.forEndpoint(server.grpcAddress, {
      insecure: true,
      project: PROJECT,
      domain: "development",
    });
    // The lost attempt's container goes; the attempt runs again (a system retry) in a container of its own.
    await eventually(
      () => containersOf(exe.name),
      (cs) => !cs.some((c) => c.Id === orphan?.Id) && cs.some((c) => c.Labels[LABEL.attempt] === "1"),
      30_000,
    );
    await remote.terminate(await remote.fetchExecution(exe.name), "done");
    await eventually(
      () => containersOf(exe.name),
      (cs) => cs.length === 0,
      15_000,
    );
  }, 90_000);

  it("removes, at start, containers whose server holds no lease", async () => {
    const labels = {
      [LABEL.execution]: `${PROJECT}/development/lost`,
      [LABEL.node]: "n0",
      [LABEL.attempt]: "0",
      [LABEL.owner]: "a-server-that-died",
    };
    const name = `petrel-test-orphan-${process.pid}`;
    await api.removeContainer(name);
    const { Id } = await api.json<{ Id: string }>("POST", `/containers/create?name=${name}`, {
      body: { Image: IMAGE, Cmd: ["sleep", "300"], Labels: labels },
    });
    await api.json("POST", `/containers/${Id}/start`);
    await remote.close();
    server = await server.restart();
    remote = FriendlyRemote.forEndpoint(server.grpcAddress, {
      insecure: true,
      project: PROJECT,
      domain: "development",
    });
    await eventually(
      () => containersOf("lost"),
      (cs) => cs.length === 0,
      15_000,
    );
  }, 60_000);
});
