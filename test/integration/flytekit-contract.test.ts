// flytekit's runtime contract end to end: tasks registered as flytekit serializes them, over gRPC with a client
// built from Flyte's published definitions (@flyteorg/flyteidl), run by the stand-in for pyflyte-execute,
// pyflyte-map-execute and pyflyte-fast-execute (test/fixtures/flytekit-standin), which reads and writes every file
// as flytekit does: inputs.pb, outputs.pb, error.pb, futures.pb, deck.html, checkpoints, the fast-registered archive.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import {
  createFlyteAdminClient,
  type FlyteAdminClient,
  type PlainMessage,
  type PythonTaskOptions,
  pythonTask,
} from "../support/flyteidl-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const STANDIN = path.resolve("test/fixtures/flytekit-standin");
const P = { project: "flytesnacks", domain: "development" };
const V = "v1";
/** In the server's own environment (this process): a task must never see it. */
const SERVER_SECRET = "PETREL_TEST_SERVER_SECRET";

let t: TestServer;
let flyte: FlyteAdminClient;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-flytekit-"));

const id = (resourceType: string, name: string) => ({ resourceType, ...P, name, version: V });
const int = (n: number) => ({ scalar: { primitive: { integer: String(n) } } });
const ints = (xs: number[]) => ({ collection: { literals: xs.map(int) } });
const promise = (nodeId: string, v: string) => ({ promise: { nodeId, var: v } });
const bindings = (m: Record<string, object>) =>
  Object.entries(m).map(([v, binding]) => ({ var: v, binding }));
const simple = (t: string) => ({ type: { simple: t } });
const vars = (m: Record<string, object>) => ({ variables: m });

async function registerTask(o: Omit<PythonTaskOptions, "project" | "domain" | "version">) {
  const spec = pythonTask({ ...P, version: V, ...o });
  await flyte.call("AdminService", "CreateTask", { id: spec.template.id, spec });
  return spec;
}

/** A workflow of one node `n0` running `node` (a task node or an array node), with a launch plan of the same name. */
async function registerWorkflow(
  name: string,
  inputs: Record<string, object>,
  outputs: Record<string, object>,
  node: object,
) {
  const template = {
    id: id("WORKFLOW", name),
    interface: { inputs: vars(inputs), outputs: vars(outputs) },
    nodes: [{ id: "n0", ...node }],
    outputs: bindings(Object.fromEntries(Object.keys(outputs).map((o) => [o, promise("n0", o)]))),
    metadata: {},
    metadataDefaults: {},
  };
  await flyte.call("AdminService", "CreateWorkflow", { id: template.id, spec: { template } });
  await flyte.call("AdminService", "CreateLaunchPlan", {
    id: id("LAUNCH_PLAN", name),
    spec: { workflowId: template.id },
  });
}

const taskNode = (task: string, inputs: Record<string, object>) => ({
  metadata: { name: task, retries: {} },
  inputs: bindings(inputs),
  taskNode: { referenceId: id("TASK", task) },
});

async function run(
  lp: string,
  name: string,
  literals: Record<string, object>,
  envs: Record<string, string> = {},
) {
  await flyte.call("AdminService", "CreateExecution", {
    ...P,
    name,
    spec: {
      launchPlan: id("LAUNCH_PLAN", lp),
      envs: { values: Object.entries(envs).map(([key, value]) => ({ key, value })) },
    },
    inputs: { literals },
  });
  const execId = { ...P, name };
  return eventually(
    () => flyte.call("AdminService", "GetExecution", { id: execId }),
    (e) => ["SUCCEEDED", "FAILED", "ABORTED"].includes(String((e.closure as PlainMessage).phase)),
    60_000,
  );
}

const closureOf = (m: PlainMessage) => m.closure as PlainMessage;
const outputsOf = async (name: string) => {
  const data = await flyte.call("AdminService", "GetExecutionData", { id: { ...P, name } });
  return (data.fullOutputs as PlainMessage | undefined)?.literals as Record<string, PlainMessage> | undefined;
};
const intOf = (l: PlainMessage | undefined) =>
  Number(((l?.scalar as PlainMessage)?.primitive as PlainMessage)?.integer);
const stringOf = (l: PlainMessage | undefined) =>
  String(((l?.scalar as PlainMessage)?.primitive as PlainMessage)?.stringValue);
const listNodes = async (name: string, uniqueParentId = "") =>
  (
    await flyte.call("AdminService", "ListNodeExecutions", {
      workflowExecutionId: { ...P, name },
      limit: 100,
      uniqueParentId,
    })
  ).nodeExecutions as PlainMessage[];
const listAttempts = async (name: string, nodeId: string) =>
  (
    await flyte.call("AdminService", "ListTaskExecutions", {
      nodeExecutionId: { executionId: { ...P, name }, nodeId },
      limit: 10,
    })
  ).taskExecutions as PlainMessage[];

beforeAll(async () => {
  process.env[SERVER_SECRET] = "must-not-leak";
  t = await startTestServer({
    env: { PETREL_TASK_ENV: `PATH=${STANDIN}:/usr/local/bin:/usr/bin:/bin,CONFIGURED_FOR_TASKS=yes` },
  });
  flyte = createFlyteAdminClient(t.grpcAddress);
  await flyte.call("AdminService", "RegisterProject", { project: { id: P.project, name: P.project } });
  await registerTask({
    name: "wf.add",
    taskName: "add",
    inputs: { a: "INTEGER", b: "INTEGER" },
    outputs: { o0: "INTEGER" },
  });
  await registerTask({ name: "wf.fail", taskName: "fail", inputs: { a: "INTEGER" }, retries: 2 });
  await registerTask({
    name: "wf.flaky",
    taskName: "flaky",
    inputs: { succeed_on: "INTEGER" },
    outputs: { o0: "INTEGER" },
    retries: 3,
  });
  await registerTask({
    name: "wf.env",
    taskName: "env",
    outputs: { o0: "STRING" },
    env: { FROM_TEMPLATE: "t" },
  });
  await registerTask({ name: "wf.vars", taskName: "vars", outputs: { o0: "STRING" } });
  await registerTask({ name: "wf.deck", taskName: "deck", outputs: { o0: "INTEGER" }, deck: true });
  await registerTask({
    name: "wf.nest",
    taskName: "nest",
    inputs: { depth: "INTEGER" },
    outputs: { o0: "INTEGER" },
    dynamic: true,
  });
  await registerWorkflow(
    "wf.add",
    { a: simple("INTEGER"), b: simple("INTEGER") },
    { o0: simple("INTEGER") },
    taskNode("wf.add", { a: promise("start-node", "a"), b: promise("start-node", "b") }),
  );
  await registerWorkflow(
    "wf.fail",
    { a: simple("INTEGER") },
    {},
    taskNode("wf.fail", { a: promise("start-node", "a") }),
  );
  await registerWorkflow(
    "wf.flaky",
    { n: simple("INTEGER") },
    { o0: simple("INTEGER") },
    taskNode("wf.flaky", { succeed_on: promise("start-node", "n") }),
  );
  await registerWorkflow("wf.env", {}, { o0: simple("STRING") }, taskNode("wf.env", {}));
  await registerWorkflow("wf.vars", {}, { o0: simple("STRING") }, taskNode("wf.vars", {}));
  await registerWorkflow("wf.deck", {}, { o0: simple("INTEGER") }, taskNode("wf.deck", {}));
  await registerWorkflow(
    "wf.nest",
    { depth: simple("INTEGER") },
    { o0: simple("INTEGER") },
    taskNode("wf.nest", { depth: promise("start-node", "depth") }),
  );
}, 60_000);
afterAll(async () => {
  delete process.env[SERVER_SECRET];
  flyte?.close();
  await t?.stop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe("flytekit's task contract", () => {
  it("runs a task: inputs.pb in, outputs.pb out", async () => {
    const e = await run("wf.add", "add", { a: int(2), b: int(40) });
    expect(closureOf(e).phase).toBe("SUCCEEDED");
    expect(intOf((await outputsOf("add"))?.o0)).toBe(42);
  });

  it("reports a user error from error.pb with its message and kind, and does not retry a non-recoverable one", async () => {
    const e = await run("wf.fail", "fail", { a: int(13) });
    expect(closureOf(e).phase).toBe("FAILED");
    const error = closureOf(e).error as PlainMessage;
    expect(error.code).toBe("USER:RuntimeError");
    expect(error.kind).toBe("USER");
    expect(String(error.message)).toContain("bad value: 13");
    const attempts = await listAttempts("fail", "n0");
    expect(attempts).toHaveLength(1);
    const attemptError = closureOf(attempts[0] as PlainMessage).error as PlainMessage;
    expect(attemptError).toMatchObject({ code: "USER:RuntimeError", kind: "USER" });
  });

  it("retries a recoverable error on the user budget, each attempt reporting its own error", async () => {
    const e = await run("wf.flaky", "flaky", { n: int(2) });
    expect(closureOf(e).phase).toBe("SUCCEEDED");
    expect(intOf((await outputsOf("flaky"))?.o0)).toBe(2);
    const attempts = await listAttempts("flaky", "n0");
    expect(attempts.map((a) => closureOf(a).phase)).toEqual([
      "RETRYABLE_FAILED",
      "RETRYABLE_FAILED",
      "SUCCEEDED",
    ]);
    expect(String((closureOf(attempts[0] as PlainMessage).error as PlainMessage).message)).toContain(
      "attempt 0 failed",
    );
    // Out of budget (3 retries → 4 attempts): the node fails as propeller words it.
    const out = await run("wf.flaky", "flaky-exhausted", { n: int(9) });
    expect(closureOf(out).phase).toBe("FAILED");
    const error = closureOf(out).error as PlainMessage;
    expect(error.code).toBe("RetriesExhausted|USER:Recoverable");
    expect(String(error.message)).toMatch(
      /^failed at Node\[n0\]\. \[4\/4\] currentAttempt done\. Last Error: USER::/,
    );
  });

  it("gives the task Flyte's variables, the template's and execution's envs and the configured ones — never the server's", async () => {
    const e = await run("wf.env", "env-run", {}, { FROM_EXECUTION: "e" });
    expect(closureOf(e).phase).toBe("SUCCEEDED");
    const env = JSON.parse(stringOf((await outputsOf("env-run"))?.o0)) as Record<string, string>;
    expect(env).toMatchObject({
      FLYTE_INTERNAL_EXECUTION_ID: "env-run",
      FLYTE_INTERNAL_EXECUTION_PROJECT: P.project,
      FLYTE_INTERNAL_EXECUTION_DOMAIN: P.domain,
      FLYTE_INTERNAL_EXECUTION_WORKFLOW: `${P.project}:${P.domain}:wf.env`,
      FLYTE_INTERNAL_TASK_PROJECT: P.project,
      FLYTE_INTERNAL_TASK_DOMAIN: P.domain,
      FLYTE_INTERNAL_TASK_NAME: "wf.env",
      FLYTE_INTERNAL_TASK_VERSION: V,
      FLYTE_ATTEMPT_NUMBER: "0",
      FROM_TEMPLATE: "t",
      FROM_EXECUTION: "e",
      CONFIGURED_FOR_TASKS: "yes",
    });
    expect(env.PATH?.startsWith(STANDIN)).toBe(true);
    expect(env[SERVER_SECRET]).toBeUndefined();
    expect(env.DATABASE_URL).toBeUndefined();
    expect(Object.keys(env).filter((k) => k.startsWith("PETREL_"))).toEqual([]);
  });

  it("substitutes every template variable flytekit's arguments use, and hands on the checkpoint", async () => {
    const e = await run("wf.vars", "vars", {});
    expect(closureOf(e).phase).toBe("SUCCEEDED");
    const seen = JSON.parse(stringOf((await outputsOf("vars"))?.o0)) as Record<string, unknown>;
    expect(JSON.stringify(seen)).not.toContain("{{");
    expect(seen).toMatchObject({
      inputs: expect.stringMatching(/inputs\.pb$/),
      checkpointPath: expect.stringMatching(/_flytecheckpoints$/),
    });
    // The first attempt has no previous checkpoint (flytekit gets `""`).
    expect(seen.prevCheckpoint ?? null).toBeNull();
  });

  it("reports the deck a task writes", async () => {
    const e = await run("wf.deck", "deck", {});
    expect(closureOf(e).phase).toBe("SUCCEEDED");
    const node = await flyte.call("AdminService", "GetNodeExecution", {
      id: { executionId: { ...P, name: "deck" }, nodeId: "n0" },
    });
    const deckUri = String(closureOf(node).deckUri);
    expect(deckUri).toMatch(/deck\.html$/);
    expect(fs.readFileSync(deckUri.replace(/^file:\/\//, ""), "utf8")).toBe("<html>deck of deck</html>");
    const data = await flyte.call("AdminService", "GetNodeExecutionData", {
      id: { executionId: { ...P, name: "deck" }, nodeId: "n0" },
    });
    expect((data.flyteUrls as PlainMessage).deck).toBe(`flyte://v1/${P.project}/${P.domain}/deck/n0/d`);
  });

  it("runs a @dynamic three levels deep, with the compiled workflow of each level readable", async () => {
    const e = await run("wf.nest", "nest", { depth: int(2) });
    expect(closureOf(e).phase, JSON.stringify(closureOf(e).error)).toBe("SUCCEEDED");
    expect(intOf((await outputsOf("nest"))?.o0)).toBe(101);
    const chain = ["n0", "n0-0-dn0", "n0-0-dn0-0-dn0"];
    for (const nodeId of chain) {
      const node = await flyte.call("AdminService", "GetNodeExecution", {
        id: { executionId: { ...P, name: "nest" }, nodeId },
      });
      expect((node.metadata as PlainMessage).isDynamic, nodeId).toBe(true);
      const wf = await flyte.call("AdminService", "GetDynamicNodeWorkflow", {
        id: { executionId: { ...P, name: "nest" }, nodeId },
      });
      const nodes = ((wf.compiledWorkflow as PlainMessage).primary as PlainMessage).template as PlainMessage;
      expect((nodes.nodes as PlainMessage[]).map((n) => n.id)).toContain("dn0");
    }
    const leaf = await listNodes("nest", "n0-0-dn0-0-dn0");
    expect(leaf.map((n) => [n.id && (n.id as PlainMessage).nodeId, closureOf(n).phase])).toEqual([
      ["n0-0-dn0-0-dn0-0-dn0", "SUCCEEDED"],
    ]);
  });
});

describe("flytekit's map tasks (ArrayNode)", () => {
  beforeAll(async () => {
    // map_task(square): registered with its list-shaped interface; the array node reads one inputs.pb.
    await registerTask({
      name: "wf.map_square",
      taskName: "square",
      inputs: { x: "INTEGER" },
      outputs: { o0: "INTEGER" },
      map: true,
    });
    const arrayNode = (dataMode: string, original: boolean, task: string) => ({
      metadata: { name: "mapper", retries: {} },
      inputs: bindings({ x: promise("start-node", "xs") }),
      arrayNode: {
        node: {
          id: "n0",
          metadata: { name: task, retries: {} },
          inputs: bindings({ x: promise("start-node", "xs") }),
          taskNode: { referenceId: id("TASK", task) },
        },
        parallelism: 2,
        minSuccessRatio: 0.5,
        executionMode: "MINIMAL_STATE",
        isOriginalSubNodeInterface: { value: original },
        dataMode,
      },
    });
    const list = (s: string) => ({ type: { collectionType: { simple: s } } });
    await registerWorkflow(
      "wf.map",
      { xs: list("INTEGER") },
      { o0: list("INTEGER") },
      arrayNode("SINGLE_INPUT_FILE", false, "wf.map_square"),
    );
    // The same element program over a scalar interface, each element with its own inputs.pb.
    const scalar = pythonTask({ ...P, version: V, name: "wf.square_each", taskName: "square", map: true });
    const template = scalar.template as PlainMessage & { interface: object };
    template.interface = { inputs: vars({ x: simple("INTEGER") }), outputs: vars({ o0: simple("INTEGER") }) };
    await flyte.call("AdminService", "CreateTask", { id: template.id, spec: scalar });
    await registerWorkflow(
      "wf.each",
      { xs: list("INTEGER") },
      { o0: list("INTEGER") },
      arrayNode("INDIVIDUAL_INPUT_FILES", true, "wf.square_each"),
    );
  }, 60_000);

  for (const [workflow, mode] of [
    ["wf.map", "one inputs.pb for all elements, the index from the environment"],
    ["wf.each", "an inputs.pb per element"],
  ] as const) {
    it(`gathers each element's output in order (${mode})`, async () => {
      const name = `${workflow.replace(".", "-")}-run`;
      const e = await run(workflow, name, { xs: ints([1, 2, 3, 7]) });
      expect(closureOf(e).phase, JSON.stringify(closureOf(e).error)).toBe("SUCCEEDED");
      const out = (await outputsOf(name))?.o0 as PlainMessage;
      const items = (out.collection as PlainMessage).literals as PlainMessage[];
      expect(items.slice(0, 3).map(intOf)).toEqual([1, 4, 9]);
      // 7 fails (a user error), within the success ratio: its slot is none.
      expect((items[3]?.scalar as PlainMessage | undefined)?.noneType).toBeDefined();
      const [n0] = await listNodes(name);
      expect((n0?.metadata as PlainMessage | undefined)?.isArray).toBe(true);
      const [attempt] = await listAttempts(name, "n0");
      const resources = ((closureOf(attempt as PlainMessage).metadata as PlainMessage).externalResources ??
        []) as PlainMessage[];
      expect(resources.map((r) => r.phase)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "FAILED"]);
    });
  }
});

describe("files", () => {
  it("hands a file uploaded through the data proxy to the task as a path it can open", async () => {
    const bytes = Buffer.from("uploaded content\n");
    const md5 = createHash("md5").update(bytes).digest();
    const loc = await flyte.call("DataProxyService", "CreateUploadLocation", {
      ...P,
      filename: "input.txt",
      contentMd5: md5.toString("base64"),
    });
    const put = await fetch(String(loc.signedUrl), {
      method: "PUT",
      body: bytes,
      headers: { "Content-MD5": md5.toString("base64"), ...(loc.headers as Record<string, string>) },
    });
    expect(put.status).toBeLessThan(300);
    const file = { type: { blob: { dimensionality: "SINGLE" } } };
    const spec = pythonTask({
      ...P,
      version: V,
      name: "wf.read_file",
      taskName: "read_file",
      outputs: { o0: "STRING" },
    });
    (spec.template as PlainMessage).interface = {
      inputs: vars({ f: file }),
      outputs: vars({ o0: simple("STRING") }),
    };
    await flyte.call("AdminService", "CreateTask", { id: spec.template.id, spec });
    await registerWorkflow(
      "wf.read_file",
      { f: file },
      { o0: simple("STRING") },
      taskNode("wf.read_file", { f: promise("start-node", "f") }),
    );
    const blob = {
      scalar: { blob: { uri: String(loc.nativeUrl), metadata: { type: { dimensionality: "SINGLE" } } } },
    };
    const e = await run("wf.read_file", "read-file", { f: blob });
    expect(closureOf(e).phase, JSON.stringify(closureOf(e).error)).toBe("SUCCEEDED");
    expect(stringOf((await outputsOf("read-file"))?.o0)).toBe("uploaded content\n");
  });
});

describe("fast registration", () => {
  it("runs a task from the archive pyflyte uploaded, fetched by pyflyte-fast-execute from the native URL", async () => {
    const src = fs.mkdtempSync(path.join(scratch, "src-"));
    fs.writeFileSync(path.join(src, "greeting.txt"), "hello from the archive\n");
    const archive = path.join(scratch, "fast.tar.gz");
    execFileSync("tar", ["-czf", archive, "-C", src, "greeting.txt"]);
    const bytes = fs.readFileSync(archive);
    const md5 = createHash("md5").update(bytes).digest();
    // As `pyflyte register` uploads it: CreateUploadLocation, then a PUT to the signed URL.
    const loc = await flyte.call("DataProxyService", "CreateUploadLocation", {
      ...P,
      filename: "fast.tar.gz",
      contentMd5: md5.toString("base64"),
    });
    const put = await fetch(String(loc.signedUrl), {
      method: "PUT",
      body: bytes,
      headers: { "Content-MD5": md5.toString("base64"), ...(loc.headers as Record<string, string>) },
    });
    expect(put.status).toBeLessThan(300);
    const nativeUrl = String(loc.nativeUrl);
    await registerTask({
      name: "wf.greet",
      taskName: "greet",
      outputs: { o0: "STRING" },
      fast: { distribution: nativeUrl },
    });
    await registerWorkflow("wf.greet", {}, { o0: simple("STRING") }, taskNode("wf.greet", {}));
    const e = await run("wf.greet", "greet", {});
    expect(closureOf(e).phase, JSON.stringify(closureOf(e).error)).toBe("SUCCEEDED");
    expect(stringOf((await outputsOf("greet"))?.o0)).toBe("hello from the archive");
  });
});
