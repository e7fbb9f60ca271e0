// No request, on any route or port, takes the server down or stalls it: malformed HTTP, HTTP/2 and gRPC input
// gets a proper answer (or a closed connection), and the server keeps serving everyone else promptly.
import type http2 from "node:http2";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../server/logger.js";
import { startListeners } from "../../server/transport/servers.js";
import { DEFAULT_SESSION_GUARD } from "../../server/transport/session-guard.js";
import {
  createExecutionNested,
  registerProjectWithBadUtf8,
  watchWithBadUtf8,
} from "../support/bad-messages.js";
import { grpcWebRaw, statusOnEveryPath } from "../support/protocol-calls.js";
import {
  connectH2,
  envelope,
  goawayCode,
  H2_PREFACE,
  h2Frame,
  idleConnection,
  noise,
  parseFrames,
  rawExchange,
  request,
} from "../support/raw-wire.js";
import { WATCH_PATH } from "../support/reset-storm.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
/** A connection of another client, open throughout: nothing done to the server may reach it. */
let bystander: http2.ClientHttp2Session;
let bystanderGoaway: number | undefined;
let grpcPort: number;
let httpPort: number;

const ADMIN = "/flyteidl.service.AdminService";
const VERSION = `${ADMIN}/GetVersion`;
const WATCH = WATCH_PATH;

beforeAll(async () => {
  t = await startTestServer();
  grpcPort = t.server.grpcPort;
  httpPort = t.server.httpPort;
  bystander = await connectH2(t.grpcAddress);
  bystander.on("goaway", (code) => {
    bystanderGoaway = code;
  });
});
afterAll(async () => {
  bystander?.close();
  await t?.stop();
});

/** The server answers at once on every port, and the bystander's connection is untouched. */
async function expectServing(): Promise<void> {
  const started = performance.now();
  await t.admin.getVersion({});
  const answer = await request(bystander, { ":path": VERSION }, envelope(new Uint8Array()));
  expect(answer.trailers["grpc-status"]).toBe("0");
  expect((await fetch(`${t.httpBaseUrl}/healthz`)).status).toBe(200);
  expect(performance.now() - started).toBeLessThan(2_000);
  expect(bystanderGoaway).toBeUndefined();
  expect(bystander.destroyed).toBe(false);
}

describe("plain HTTP routes", () => {
  it("answers 400 for a log path that is not valid percent-encoding", async () => {
    const res = await fetch(`${t.httpBaseUrl}/api/v1/logs/%E0%A4%A/a/b/c/d/stdout`);
    expect(res.status).toBe(400);
    expect(await res.text()).toBe("bad request: the log path is not valid percent-encoded UTF-8\n");
    const missing = await fetch(`${t.httpBaseUrl}/api/v1/logs/p/d/e/n/0/stdout`);
    expect(missing.status).toBe(404);
    await expectServing();
  });

  it("answers 500 for a route that throws, at once or later, and logs what it threw", async () => {
    const lines: string[] = [];
    const listeners = await startListeners({
      host: "127.0.0.1",
      grpcPort: 0,
      httpPort: 0,
      routes: () => undefined,
      interceptors: [],
      logger: createLogger("error", (line) => lines.push(line)),
      httpRoutes: (req) => {
        if (req.url === "/now") throw new Error("thrown at once");
        if (req.url === "/later") return Promise.reject(new Error("rejected later"));
        return false;
      },
    });
    try {
      for (const [path, error] of [
        ["/now", "thrown at once"],
        ["/later", "rejected later"],
      ] as const) {
        const res = await fetch(`http://127.0.0.1:${listeners.httpPort}${path}`);
        expect({ status: res.status, body: await res.text() }).toEqual({
          status: 500,
          body: "internal error\n",
        });
        expect(lines.some((l) => l.includes("request failed") && l.includes(error))).toBe(true);
      }
      expect((await fetch(`http://127.0.0.1:${listeners.httpPort}/elsewhere`)).status).toBe(404);
    } finally {
      await listeners.close(1_000);
    }
  });

  it("answers 400 to an rpc request without a usable Host", async () => {
    for (const head of [`POST ${VERSION} HTTP/1.0\r\n`, `POST ${VERSION} HTTP/1.1\r\nHost: [::\r\n`]) {
      const { data } = await rawExchange(httpPort, Buffer.from(`${head}Connection: close\r\n\r\n`));
      expect(data.toString()).toMatch(
        /^HTTP\/1\.1 400 [\s\S]*\r\n\r\n[\s\S]*bad request: missing or invalid authority\n/,
      );
    }
    await expectServing();
  });
});

describe("transport garbage", () => {
  it("closes connections that send random bytes, on each port", async () => {
    for (const [port, seed] of [
      [grpcPort, 1],
      [grpcPort, 2],
      [httpPort, 3],
      [httpPort, 4],
    ] as const) {
      const { closed } = await rawExchange(port, noise(4096, seed));
      expect(closed).toBe(true);
      await expectServing();
    }
  });

  it("answers HTTP/1.1 on the gRPC port (console links), and closes a broken HTTP/2 preface", async () => {
    const get = Buffer.from("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const { data, closed } = await rawExchange(grpcPort, get);
    expect(closed).toBe(true);
    expect(data.toString()).toMatch(/^HTTP\/1\.1 302 [\s\S]*\r\nlocation: \/console\/\r\n/i);
    const broken = await rawExchange(grpcPort, Buffer.from("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"));
    expect(broken.closed).toBe(true);
    expect(broken.data.toString()).toMatch(/^HTTP\/1\.1 400 /);
    await expectServing();
  });

  it("answers malformed HTTP/2 frames with GOAWAY, and ignores unknown frame types", async () => {
    const settings = h2Frame(4, 0, 0);
    const malformed = [
      h2Frame(4, 0, 0, Buffer.alloc(5)), // SETTINGS of a length that is no multiple of 6
      h2Frame(0, 1, 0, Buffer.from("data")), // DATA on the connection stream
      h2Frame(1, 5, 1, Buffer.alloc(16, 0xff)), // HEADERS that do not decode (HPACK)
      h2Frame(8, 0, 0, Buffer.alloc(4)), // WINDOW_UPDATE of 0
      h2Frame(6, 0, 0, Buffer.alloc(3)), // PING of the wrong length
      h2Frame(0, 0, 1, Buffer.alloc(0), 1 << 23), // a frame longer than SETTINGS_MAX_FRAME_SIZE
    ];
    const codes: (number | undefined)[] = [];
    for (const frame of malformed) {
      const bytes = Buffer.concat([H2_PREFACE, settings, frame]);
      codes.push(goawayCode((await rawExchange(grpcPort, bytes, (d) => goawayCode(d) !== undefined)).data));
      await expectServing();
    }
    expect(codes.every((code) => code !== undefined && code > 0)).toBe(true);
    const ping = h2Frame(6, 0, 0, Buffer.from("12345678"));
    const unknown = Buffer.concat([H2_PREFACE, settings, h2Frame(0xfa, 0, 0, Buffer.from("??")), ping]);
    const pong = (d: Buffer) => parseFrames(d).some((f) => f.type === 6 && f.flags === 1);
    expect((await rawExchange(grpcPort, unknown, pong)).closed).toBe(false);
  });

  it("answers malformed gRPC framing with proper codes", async () => {
    const s = await connectH2(t.grpcAddress);
    const call = async (headers: http2.OutgoingHttpHeaders, body: Uint8Array, endStream = true) => {
      const a = await request(s, { ":path": VERSION, ...headers }, body, { endStream });
      return { status: a.status, code: a.trailers["grpc-status"] };
    };
    const three = new Uint8Array(3);
    try {
      expect(await call({}, envelope(three, 0, 10))).toEqual({ status: 200, code: "3" }); // truncated message
      expect(await call({}, Buffer.from([0, 0]))).toEqual({ status: 200, code: "3" }); // truncated prefix
      expect(await call({}, envelope(three, 0, 0xffff_fff0))).toEqual({ status: 200, code: "8" }); // ~4 GB
      expect(await call({}, envelope(three, 0, 0xffff_fff0), false)).toEqual({ status: 200, code: "8" });
      expect(await call({}, envelope(three, 1))).toEqual({ status: 200, code: "3" }); // compressed, no encoding
      expect(await call({ "grpc-encoding": "identity" }, envelope(three, 1))).toEqual({
        status: 200,
        code: "3",
      });
      expect(await call({ "grpc-encoding": "zstd-x" }, envelope(three, 1))).toEqual({
        status: 200,
        code: "12",
      });
      expect(await call({ "grpc-encoding": "gzip" }, envelope(three, 1))).toEqual({ status: 200, code: "3" });
      for (const type of ["text/plain", "application/grpc+bogus", "application/grpcx"]) {
        expect(await call({ "content-type": type }, envelope(three))).toMatchObject({ status: 415 });
      }
      const json = { "content-type": "application/grpc+json" };
      expect(await call(json, envelope(Buffer.from("{")))).toEqual({ status: 200, code: "3" });
    } finally {
      s.close();
    }
    // The same through gRPC-Web on the HTTP/1.1 port.
    const web = (body: Uint8Array, type?: string) => grpcWebRaw(t.httpBaseUrl, VERSION, body, type);
    const code = (c: Code) => ({ status: 200, trailer: expect.objectContaining({ code: c }) });
    expect(await web(envelope(three, 0, 10))).toEqual(code(Code.InvalidArgument));
    expect(await web(envelope(three, 0, 0xffff_fff0))).toEqual(code(Code.ResourceExhausted));
    expect(await web(envelope(three, 1))).toEqual(code(Code.InvalidArgument));
    expect(await web(envelope(three), "text/plain")).toEqual({ status: 415 });
    await expectServing();
  });

  it("keeps serving while connections that send nothing stay open", async () => {
    const idle = await Promise.all([idleConnection(grpcPort), idleConnection(httpPort)]);
    await expectServing();
    for (const socket of idle) socket.destroy();
  });

  it("closes HTTP/2 connections that stay idle without streams, also after a malformed frame", async () => {
    const listeners = await startListeners({
      host: "127.0.0.1",
      grpcPort: 0,
      httpPort: 0,
      routes: () => undefined,
      interceptors: [],
      logger: createLogger("silent"),
      sessionGuard: { ...DEFAULT_SESSION_GUARD, idleMs: 200 },
    });
    try {
      const malformed = Buffer.concat([H2_PREFACE, h2Frame(4, 0, 0), h2Frame(4, 0, 0, Buffer.alloc(5))]);
      for (const bytes of [malformed, H2_PREFACE, Buffer.alloc(0)]) {
        expect((await rawExchange(listeners.grpcPort, bytes, () => false, 5_000)).closed).toBe(true);
      }
    } finally {
      await listeners.close(1_000);
    }
  });

  it("stops within its grace period although a client never closes its connection", async () => {
    const second = await startTestServer({ database: t.database, env: { PETREL_ENGINE: "off" } });
    const idle = await Promise.all([
      idleConnection(second.server.grpcPort, true),
      idleConnection(second.server.httpPort, true),
    ]);
    second.grpcJs.close();
    const started = performance.now();
    await second.server.stop(300);
    expect(performance.now() - started).toBeLessThan(5_000);
    for (const socket of idle) socket.destroy();
  });
});

describe("request messages that do not decode", () => {
  let s: http2.ClientHttp2Session;
  beforeAll(async () => {
    s = await connectH2(t.grpcAddress);
  });
  afterAll(() => s?.close());

  const decodeCases = [
    {
      what: "invalid UTF-8 in a string field",
      path: `${ADMIN}/RegisterProject`,
      message: registerProjectWithBadUtf8(),
      text: "flyteidl.admin.ProjectRegisterRequest from binary: a string field is not valid UTF-8",
    },
    {
      what: "invalid UTF-8 in a string field of a server-streaming request",
      path: WATCH,
      message: watchWithBadUtf8(),
      text: "petrel.v1.WatchExecutionRequest from binary: a string field is not valid UTF-8",
    },
    {
      what: "messages nested deeper than 100 levels",
      path: `${ADMIN}/CreateExecution`,
      message: createExecutionNested(80),
      text: "flyteidl.admin.ExecutionCreateRequest from binary: messages are nested more than 100 levels deep",
    },
    {
      what: "bytes that are no protobuf message",
      path: `${ADMIN}/RegisterProject`,
      message: new Uint8Array([0x0a, 0xff]),
      text: "flyteidl.admin.ProjectRegisterRequest from binary: the bytes are not a valid protobuf message",
    },
  ];

  it.each(decodeCases)("answers INVALID_ARGUMENT for $what, the same on every path", async (c) => {
    const status = { code: Code.InvalidArgument, message: `cannot decode message ${c.text}` };
    const streaming = c.path === WATCH;
    expect(await statusOnEveryPath(s, t.httpBaseUrl, c.path, c.message, streaming)).toEqual({
      direct: status,
      connectGrpc: status,
      connectGrpcGzip: status,
      grpcWeb: status,
      connect: streaming ? status : { ...status, status: 400 },
    });
  });
});
