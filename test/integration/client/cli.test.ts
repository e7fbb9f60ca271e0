// The `petrel` CLI driven as a subprocess against a real server.

import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeSchema } from "../../../gen/flyteidl/core/workflow_pb.js";
import {
  bind,
  intType,
  launchPlanId,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../../fixtures/flyte-builders.js";
import { eventually } from "../../support/eventually.js";
import { exited, runPetrel } from "../../support/server-process.js";
import { startTestServer, type TestServer } from "../../support/test-server.js";

let t: TestServer;

async function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = runPetrel(["--endpoint", t.grpcAddress, "--project", "clip", ...args]);
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
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "clip", name: "clip" } });
  await t.admin.createTask({
    id: taskId("double", "v1", "clip"),
    spec: {
      template: taskTemplate({
        inputs: { a: intType() },
        outputs: { o: intType() },
        command: ["sh", "-c", "echo $(( {{.inputs.a}} * 2 )) > {{.outputPrefix}}/o"],
      }),
    },
  });
  const gate = create(NodeSchema, {
    id: "ok",
    inputs: [bind("a", "", "x")],
    target: { case: "gateNode", value: { condition: { case: "approve", value: { signalId: "go" } } } },
  });
  const wf = workflowTemplate({
    inputs: { x: intType() },
    outputs: { o: intType() },
    nodes: [gate, taskNode("n0", taskId("double", "v1", "clip"), [bind("a", "ok", "a")])],
    outputBindings: [bind("o", "n0", "o")],
  });
  await t.admin.createWorkflow({ id: workflowId("gated", "v1", "clip"), spec: { template: wf } });
  await t.admin.createLaunchPlan({
    id: launchPlanId("gated", "v1", "clip"),
    spec: { workflowId: workflowId("gated", "v1", "clip") },
  });
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe("petrel CLI", () => {
  it("run --wait shows progress and typed outputs; get -o json lists executions", async () => {
    const r = await cli("run", "task", "double", "--input", "a=21", "--wait");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/execution [a-z0-9]{20} created/);
    expect(r.stdout).toContain("node double: SUCCEEDED");
    expect(r.stdout.trim().split("\n").at(-1)).toBe('{"o":42}');
    const list = await cli("get", "executions", "-o", "json");
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toHaveLength(1);
    const table = await cli("get", "tasks");
    expect(table.stdout).toMatch(/^NAME\s+VERSION\ndouble\s+v1$/m);
  }, 60_000);

  it("signal approve unblocks a gate", async () => {
    const started = await cli("run", "launch-plan", "gated", "--input", "x=5");
    const name = /execution (\S+) created/.exec(started.stdout)?.[1] ?? "";
    await eventually(
      async () => (await cli("signal", "list", name)).stdout,
      (s) => s.includes("go"),
      30_000,
      200,
    );
    const approved = await cli("signal", "approve", "go", name);
    expect(approved.code).toBe(0);
    await eventually(
      async () => (await cli("get", "executions", "--filter", `eq(execution_name,${name})`)).stdout,
      (s) => s.includes("SUCCEEDED"),
      30_000,
      200,
    );
  }, 90_000);

  it("prints one clear line and exits non-zero on errors", async () => {
    const r = await cli("run", "task", "double", "--input", "a=twenty");
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual(["petrel: a: expected an integer, got twenty"]);
    const missing = await cli("get", "executions", "--project", "nope");
    expect(missing.code).toBe(0);
    const bad = await cli("frobnicate");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('petrel: unknown command "frobnicate" (see petrel help)\n');
  }, 60_000);

  it("worker MODULE serves the module's functions", async () => {
    await t.admin.createTask({
      id: taskId("triple", "v1", "clip"),
      spec: {
        template: taskTemplate({
          type: "worker",
          inputs: { a: intType() },
          outputs: { o: intType() },
          edit: (x) => {
            x.target = { case: undefined };
          },
        }),
      },
    });
    const child = runPetrel([
      "--endpoint",
      t.grpcAddress,
      "--project",
      "clip",
      "worker",
      "test/fixtures/worker-module.ts",
    ]);
    try {
      const r = await cli("run", "task", "triple", "--input", "a=7", "--wait");
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split("\n").at(-1)).toBe('{"o":21}');
    } finally {
      child.kill("SIGTERM");
      expect(await exited(child)).toBe(0);
    }
  }, 60_000);

  it("create project registers a project", async () => {
    const r = await cli("create", "project", "fresh", "--description", "made by the CLI");
    expect(r.stdout.trim()).toBe("project fresh created");
    const p = await t.admin.getProject({ id: "fresh" });
    expect(p.description).toBe("made by the CLI");
    const again = await cli("create", "project", "fresh");
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^petrel: .*already exists/);
  }, 60_000);

  it("register MODULE registers the DSL entities; worker MODULE serves their function tasks", async () => {
    const reg = await cli("register", "test/fixtures/dsl-module.ts", "--version", "m1");
    expect(reg.stderr).toBe("");
    expect(reg.code).toBe(0);
    expect(reg.stdout).toContain(
      "registered 2 task(s), 2 workflow(s), 3 launch plan(s) as version m1 in clip/development",
    );
    const child = runPetrel([
      "--endpoint",
      t.grpcAddress,
      "--project",
      "clip",
      "worker",
      "test/fixtures/dsl-module.ts",
    ]);
    try {
      const r = await cli("run", "workflow", "cli.hello", "--input", "name=ann", "--wait");
      expect(r.stderr).toBe("");
      expect(r.stdout.trim().split("\n").at(-1)).toBe('{"text":"hello ann"}');
    } finally {
      child.kill("SIGTERM");
      expect(await exited(child)).toBe(0);
    }
  }, 60_000);

  it("backfill runs a scheduled launch plan once per tick in the range", async () => {
    const args = [
      "backfill",
      "cli.nightly",
      "--from",
      "2026-01-01T00:00:00Z",
      "--to",
      "2026-01-04T00:00:00Z",
    ];
    const dry = await cli(...args, "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout.trim()).toBe(
      "3 run(s) of cli.nightly: 2026-01-01T03:00:00.000Z, 2026-01-02T03:00:00.000Z, 2026-01-03T03:00:00.000Z",
    );
    const real = await cli(...args);
    expect(real.stderr).toBe("");
    const name = /execution (\S+) created/.exec(real.stdout)?.[1] ?? "";
    const id = { project: "clip", domain: "development", name };
    const done = await eventually(
      () => t.admin.getExecution({ id }),
      (e) => (e.closure?.phase ?? 0) >= 4,
      30_000,
    );
    expect(done.closure?.outputResult.case === "error" ? done.closure.outputResult.value.message : "").toBe(
      "",
    );
    const children = await t.admin.listExecutions({
      id: { project: "clip", domain: "development" },
      limit: 10,
      filters: `eq(launch_plan.name,cli.nightly)`,
    });
    expect(children.executions).toHaveLength(3);
    const seen = await Promise.all(
      children.executions.map(async (c) => {
        const out = (await t.admin.getExecutionData({ id: c.id })).fullOutputs?.literals.seen;
        const v = out?.value.case === "scalar" ? out.value.value.value : undefined;
        return v?.case === "primitive" ? String(v.value.value.value) : "";
      }),
    );
    expect(seen.map((x) => x.slice(0, 19)).sort()).toEqual([
      "2026-01-01T03:00:00",
      "2026-01-02T03:00:00",
      "2026-01-03T03:00:00",
    ]);
  }, 60_000);

  it("saves, lists and uses profiles, and prints yaml", async () => {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const config = `${mkdtempSync(`${tmpdir()}/petrel-cfg-`)}/config.yaml`;
    const bare = async (...args: string[]) => {
      const child = runPetrel(args, { PETREL_CONFIG: config });
      let stdout = "";
      child.stdout?.on("data", (c: Buffer) => {
        stdout += c.toString();
      });
      return { code: await exited(child), stdout };
    };
    expect(
      (await bare("config", "save", "local", "--endpoint", t.grpcAddress, "--project", "clip")).code,
    ).toBe(0);
    expect((await bare("config", "save", "other", "--endpoint", "127.0.0.1:1", "--project", "x")).code).toBe(
      0,
    );
    expect((await bare("config", "list")).stdout).toMatch(/^\* local .*clip\/development\n {2}other/);
    const yaml = await bare("get", "tasks", "-o", "yaml");
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toContain("name: double");
    expect((await bare("config", "use", "other")).code).toBe(0);
    expect((await bare("get", "tasks", "--profile", "local")).stdout).toContain("double");
  }, 60_000);
});
