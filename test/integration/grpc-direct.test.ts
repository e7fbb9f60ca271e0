// The direct gRPC unary path answers byte for byte as Connect's handler does. A query string keeps a call on
// Connect's path (the router ignores it), so each request is sent both ways and the answers compared.
import http2 from "node:http2";
import { gunzipSync, gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResourceListRequestSchema } from "../../gen/flyteidl/admin/common_pb.js";
import {
  ExecutionCreateRequestSchema,
  WorkflowExecutionGetRequestSchema,
} from "../../gen/flyteidl/admin/execution_pb.js";
import { Project_ProjectState, ProjectListRequestSchema } from "../../gen/flyteidl/admin/project_pb.js";
import { WatchExecutionRequestSchema } from "../../gen/petrel/v1/watch_pb.js";
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
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
let session: http2.ClientHttp2Session;
const ADMIN = "/flyteidl.service.AdminService";

interface Answer {
  readonly status: number;
  readonly headers: Record<string, unknown>;
  readonly trailers: Record<string, unknown>;
  readonly body: string;
}

function send(path: string, headers: http2.OutgoingHttpHeaders, body: Uint8Array): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    let response: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      response = h;
    });
    stream.on("trailers", (h) => {
      trailers = h;
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", reject);
    stream.on("end", () => {
      const { date: _d, ":status": status, ...rest } = response;
      resolve({
        status: Number(status),
        headers: rest,
        trailers: { ...trailers },
        body: Buffer.concat(chunks).toString("hex"),
      });
    });
    stream.end(body);
  });
}

function envelope(message: Uint8Array, flags = 0): Buffer {
  const b = Buffer.alloc(5 + message.length);
  b[0] = flags;
  b.writeUInt32BE(message.length, 1);
  b.set(message, 5);
  return b;
}

/** Sends the request directly and through Connect, expects the same answer, and returns it. */
async function same(method: string, headers: http2.OutgoingHttpHeaders, body: Uint8Array): Promise<Answer> {
  const path = method.startsWith("/") ? method : `${ADMIN}/${method}`;
  const direct = await send(path, headers, body);
  const connect = await send(`${path}?via=connect`, headers, body);
  const strip = (a: Answer) => {
    const { "x-request-id": id, ...rest } = a.headers;
    // A request id is echoed, or made up per call.
    if (id !== undefined)
      expect(id).toMatch(
        typeof headers["x-request-id"] === "string" ? headers["x-request-id"] : /^[0-9a-f-]{36}$/,
      );
    return { ...a, headers: { ...rest, "x-request-id": typeof id } };
  };
  expect(strip(direct)).toEqual(strip(connect));
  return direct;
}

beforeAll(async () => {
  t = await startTestServer();
  session = http2.connect(`http://${t.grpcAddress}`);
  await t.admin.registerProject({ project: { id: "shelved", name: "shelved" } });
  await t.admin.updateProject({ id: "shelved", name: "shelved", state: Project_ProjectState.ARCHIVED });
  for (let i = 0; i < 8; i++) {
    await t.admin.registerProject({ project: { id: `p${i}`, name: `p${i}`, description: "d".repeat(250) } });
  }
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  await t.admin.createTask({
    id: taskId("echo"),
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  const template = workflowTemplate({
    inputs: { x: intType() },
    outputs: { o: intType() },
    nodes: [taskNode("n0", taskId("echo"), [bind("a", "", "x")])],
    outputBindings: [bind("o", "n0", "a")],
  });
  await t.admin.createWorkflow({ id: workflowId("one"), spec: { template } });
  await t.admin.createLaunchPlan({ id: launchPlanId("one"), spec: { workflowId: workflowId("one") } });
  const { id } = await t.admin.createExecution({
    project: "flytesnacks",
    domain: "development",
    name: "done",
    spec: { launchPlan: launchPlanId("one") },
    inputs: { literals: { x: literalInt(1) } },
  });
  for await (const _ of t.watch.watchExecution({ id })) {
    // until the terminal phase
  }
});

afterAll(async () => {
  session?.close();
  await t?.stop();
});

describe("direct gRPC unary path", () => {
  const empty = envelope(new Uint8Array());
  const listRequest = toBinary(ProjectListRequestSchema, create(ProjectListRequestSchema, { limit: 100 }));
  const list = envelope(listRequest);

  it("answers successes, with headers, trailers and compression as Connect does", async () => {
    const plain = await same("GetVersion", {}, empty);
    expect(plain.trailers).toMatchObject({ "grpc-status": "0" });
    expect(plain.headers["content-type"]).toBe("application/grpc+proto");
    await same(
      "GetVersion",
      { "content-type": "application/grpc+proto", "grpc-accept-encoding": "gzip" },
      empty,
    );
    await same("GetDomains", { "x-request-id": "req-1", "grpc-timeout": "5S" }, empty);
    // As grpc-go and grpc-js servers do, a response is compressed only when (and as) its request was.
    const big = await same("ListProjects", { "grpc-accept-encoding": "identity, gzip" }, list);
    expect(big.headers["grpc-encoding"]).toBeUndefined();
    expect(big.body.slice(0, 2)).toBe("00");
    await same("ListProjects", { "grpc-accept-encoding": "br" }, list);
    await same("ListProjects", {}, list);
    const zipped = envelope(gzipSync(listRequest), 1);
    const mirrored = await same(
      "ListProjects",
      { "grpc-encoding": "gzip", "grpc-accept-encoding": "br,gzip" },
      zipped,
    );
    expect(mirrored.headers["grpc-encoding"]).toBe("gzip");
    expect(mirrored.trailers["grpc-status"]).toBe("0");
    expect(gunzipSync(Buffer.from(mirrored.body.slice(10), "hex")).length).toBeGreaterThan(1000);
  });

  it("answers GetExecution and ListExecutions, encoded from the stored bytes, as Connect does", async () => {
    const get = envelope(
      toBinary(
        WorkflowExecutionGetRequestSchema,
        create(WorkflowExecutionGetRequestSchema, {
          id: { project: "flytesnacks", domain: "development", name: "done" },
        }),
      ),
    );
    const one = await same("GetExecution", {}, get);
    expect(one.trailers["grpc-status"]).toBe("0");
    expect(one.body.length).toBeGreaterThan(200);
    const page = envelope(
      toBinary(
        ResourceListRequestSchema,
        create(ResourceListRequestSchema, {
          id: { project: "flytesnacks", domain: "development" },
          limit: 10,
        }),
      ),
    );
    const listed = await same("ListExecutions", {}, page);
    expect(listed.trailers["grpc-status"]).toBe("0");
    expect(listed.body.length).toBeGreaterThan(200);
  });

  it("answers errors, with details, as Connect does", async () => {
    const missing = create(WorkflowExecutionGetRequestSchema, {
      id: { project: "shelved", domain: "development", name: "ghost" },
    });
    const notFound = await same(
      "GetExecution",
      {},
      envelope(toBinary(WorkflowExecutionGetRequestSchema, missing)),
    );
    expect(notFound.trailers["grpc-status"]).toBe("5");
    const inactive = await same(
      "CreateExecution",
      { "x-request-id": "req-2" },
      envelope(
        toBinary(
          ExecutionCreateRequestSchema,
          create(ExecutionCreateRequestSchema, { project: "shelved", domain: "development" }),
        ),
      ),
    );
    expect(inactive.trailers["grpc-status"]).toBe("3");
    expect(inactive.trailers["grpc-status-details-bin"]).toBeDefined();
    // Every rpc of the served services is built: an unknown method is a 404 (UNIMPLEMENTED to gRPC clients) both ways.
    const unimplemented = await same("/flyteidl.service.DataProxyService/NoSuchMethod", {}, empty);
    expect(unimplemented.status).toBe(404);
  });

  it("streams server-streaming answers as Connect does", async () => {
    const WATCH = "/petrel.v1.WatchService/WatchExecution";
    const watch = (name: string) =>
      envelope(
        toBinary(
          WatchExecutionRequestSchema,
          create(WatchExecutionRequestSchema, {
            id: { project: "flytesnacks", domain: "development", name },
          }),
        ),
      );
    const done = await same(WATCH, { "grpc-accept-encoding": "gzip" }, watch("done"));
    expect(done.trailers["grpc-status"]).toBe("0");
    expect(done.body.length).toBeGreaterThan(100);
    await same(WATCH, {}, watch("done"));
    const missing = await same(WATCH, {}, watch("ghost"));
    expect(missing.trailers["grpc-status"]).toBe("5");
    await same(WATCH, {}, Buffer.concat([watch("done"), watch("done")]));
    await same(WATCH, {}, envelope(new Uint8Array([0x0a, 0xff])));
  });

  it("leaves unusual requests to Connect, with the same answers", async () => {
    await same("GetVersion", {}, new Uint8Array());
    await same("GetVersion", {}, Buffer.concat([empty, empty]));
    await same("GetVersion", {}, Buffer.from([0, 0, 0]));
    await same("GetVersion", {}, envelope(new Uint8Array([0x0a, 0xff])));
    await same("GetVersion", {}, envelope(gzipSync(new Uint8Array()), 1));
    await same("GetVersion", { "grpc-encoding": "gzip" }, envelope(gzipSync(new Uint8Array()), 1));
    await same("GetVersion", { "grpc-encoding": "zstd" }, empty);
    await same("GetVersion", { "grpc-timeout": "soon" }, empty);
    await same(
      "GetVersion",
      { "content-type": "application/grpc+json" },
      Buffer.from([0, 0, 0, 0, 2, 123, 125]),
    );
    const parsed = await same("ListProjects", {}, envelope(new Uint8Array([0x0a, 0xff])));
    // A message that does not decode is the client's fault (transport-robustness.test.ts has the cases).
    expect(parsed.trailers["grpc-status"]).toBe("3");
  });
});
