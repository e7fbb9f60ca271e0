// The operator's view of a running server: /metrics scraped and parsed, and the JSON log lines (request ids on rpc
// lines, the execution id on engine lines, one info line per execution phase change).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { type PetrelServer, startPetrel } from "../../server/app.js";
import { loadConfig } from "../../server/config.js";
import { createLogger } from "../../server/logger.js";
import {
  bind,
  intType,
  launchPlanId,
  literalInt,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { expectCode } from "../support/expect-error.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

const P = { project: "flytesnacks", domain: "development" };
let database: TestDatabase;
let home: string;
let server: PetrelServer;
const lines: Array<Record<string, unknown>> = [];
let admin: ReturnType<typeof createClient<typeof AdminService>>;

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Parses the Prometheus text exposition (samples only). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] ?? ""] = l[2] ?? "";
    samples.push({ name: m[1] ?? "", labels, value: Number(m[3]) });
  }
  return samples;
}

async function scrape(): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
  return parseMetrics(await res.text());
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);

beforeAll(async () => {
  database = await createTestDatabase();
  home = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-test-home-"));
  const config = loadConfig([], {
    PETREL_HOME: home,
    PETREL_GRPC_PORT: "0",
    PETREL_HTTP_PORT: "0",
    PETREL_HOST: "127.0.0.1",
    DATABASE_URL: database.url,
    PETREL_LOG_LEVEL: "debug",
  });
  server = await startPetrel(
    config,
    createLogger("debug", (line) => lines.push(JSON.parse(line) as Record<string, unknown>)),
  );
  admin = createClient(AdminService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.grpcPort}` }));
  await admin.registerProject({ project: { id: P.project, name: P.project } });
  await admin.createTask({
    id: taskId("echo"),
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  const wf = workflowTemplate({
    inputs: { x: intType() },
    outputs: { o: intType() },
    nodes: [taskNode("n0", taskId("echo"), [bind("a", "", "x")])],
    outputBindings: [bind("o", "n0", "a")],
  });
  await admin.createWorkflow({ id: workflowId("chain"), spec: { template: wf } });
  await admin.createLaunchPlan({ id: launchPlanId("chain"), spec: { workflowId: workflowId("chain") } });
});
afterAll(async () => {
  await server?.stop(2_000);
  await database?.drop();
  if (home !== undefined) fs.rmSync(home, { recursive: true, force: true });
});

describe("/metrics", () => {
  it("counts rpcs by method and code, executions by phase, claims, attempts and the pool", async () => {
    const before = await scrape();
    await admin.getVersion({});
    await expectCode(admin.getTask({ id: taskId("missing") }), Code.NotFound);
    await admin.createExecution({
      ...P,
      name: "counted",
      spec: { launchPlan: launchPlanId("chain") },
      inputs: { literals: { x: literalInt(3) } },
    });
    await eventually(
      () => admin.getExecution({ id: { ...P, name: "counted" } }),
      (e) => e.closure?.phase === W.SUCCEEDED,
    );
    const after = await scrape();
    const rpc = (method: string, code: string) =>
      value(after, "petrel_rpc_requests_total", { service: "flyteidl.service.AdminService", method, code }) -
      value(before, "petrel_rpc_requests_total", { service: "flyteidl.service.AdminService", method, code });
    expect(rpc("GetVersion", "OK")).toBe(1);
    expect(rpc("GetTask", "NotFound")).toBe(1);
    expect(
      value(after, "petrel_rpc_duration_seconds_count", { method: "GetVersion", code: "OK" }),
    ).toBeGreaterThan(0);
    expect(value(after, "petrel_executions", { phase: "SUCCEEDED" })).toBe(1);
    expect(value(after, "petrel_executions", { phase: "FAILED" })).toBe(0);
    expect(
      value(after, "petrel_execution_phase_changes_total", { phase: "SUCCEEDED" }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(after, "petrel_task_attempts_total", { plugin: "echo", outcome: "succeeded" }),
    ).toBeGreaterThanOrEqual(1);
    expect(value(after, "petrel_engine_claim_duration_seconds_count")).toBeGreaterThan(0);
    expect(after.some((s) => s.name === "petrel_engine_queue_depth" && s.labels.state === "ready")).toBe(
      true,
    );
    expect(value(after, "petrel_db_pool_connections", { state: "max" })).toBeGreaterThan(0);
  });
});

describe("JSON logs", () => {
  it("carry the request id on rpc lines, and the execution on engine lines with one line per phase change", async () => {
    const transport = createGrpcTransport({
      baseUrl: `http://127.0.0.1:${server.grpcPort}`,
      interceptors: [
        (next) => (req) => {
          req.header.set("x-request-id", "req-logs-1");
          return next(req);
        },
      ],
    });
    await createClient(AdminService, transport).getVersion({});
    const rpcLine = lines.find((l) => l.msg === "rpc" && l.requestId === "req-logs-1");
    expect(rpcLine).toMatchObject({ level: "debug", method: "GetVersion" });
    expect(typeof rpcLine?.time).toBe("string");
    const changes = lines.filter(
      (l) => l.msg === "execution phase changed" && l.execution === "flytesnacks/development/counted",
    );
    expect(changes.length).toBeGreaterThanOrEqual(2);
    for (const c of changes) expect(c).toMatchObject({ level: "info", executionId: expect.any(String) });
    expect(changes.map((c) => c.to)).toContain("SUCCEEDED");
    // Each change once: from → to pairs are distinct.
    const pairs = changes.map((c) => `${c.from}->${c.to}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });
});
