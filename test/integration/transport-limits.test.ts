// The limits of a connection, against the listeners with rpcs of the test's own: deadlines answered when they pass
// (and the implementation's work stopped), concurrent streams per connection, and clients that stall or vanish.
import net from "node:net";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { createLogger } from "../../server/logger.js";
import {
  DEFAULT_LIMITS,
  type Listeners,
  type ListenOptions,
  startListeners,
} from "../../server/transport/servers.js";
import { DEFAULT_SESSION_GUARD } from "../../server/transport/session-guard.js";
import { eventually } from "../support/eventually.js";
import { connectH2, envelope, H2_PREFACE, h2Frame, parseFrames, request } from "../support/raw-wire.js";

const VERSION = "/flyteidl.service.AdminService/GetVersion";
let listeners: Listeners | undefined;

afterEach(async () => {
  await listeners?.close(500);
  listeners = undefined;
});

/** Listeners whose GetVersion takes `slowMs` unless its signal ends it first; records how each call ended. */
async function slowServer(slowMs: number, extra: Partial<ListenOptions> = {}) {
  const calls = { running: 0, most: 0, ended: [] as string[] };
  listeners = await startListeners({
    host: "127.0.0.1",
    grpcPort: 0,
    httpPort: 0,
    interceptors: [],
    logger: createLogger("silent"),
    routes: (r) =>
      r.service(AdminService, {
        async getVersion(_req, ctx) {
          calls.running++;
          calls.most = Math.max(calls.most, calls.running);
          try {
            await new Promise<void>((resolve) => {
              const stop = () => {
                clearTimeout(timer);
                calls.ended.push(`stopped: ${String(ctx.signal.reason)}`);
                resolve();
              };
              const timer = setTimeout(() => {
                ctx.signal.removeEventListener("abort", stop);
                resolve();
              }, slowMs);
              ctx.signal.addEventListener("abort", stop);
            });
            if (!ctx.signal.aborted) calls.ended.push("finished");
            return {};
          } finally {
            calls.running--;
          }
        },
      }),
    ...extra,
  });
  return { calls, l: listeners };
}

/** An HPACK block (no Huffman, no indexing) for a gRPC POST to `path`. */
function grpcHeaders(path: string): Buffer {
  const str = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);
  return Buffer.concat([
    Buffer.from([0x83, 0x86, 0x04]), // :method POST, :scheme http, :path (literal)
    str(path),
    Buffer.from([0x01]), // :authority
    str("localhost"),
    Buffer.from([0x0f, 0x10]), // content-type
    str("application/grpc"),
    Buffer.from([0x00]),
    str("te"),
    str("trailers"),
  ]);
}

/** A raw HTTP/2 client that never answers pings and ignores the server's SETTINGS. */
async function rawClient(port: number) {
  const socket = net.connect(port, "127.0.0.1");
  let data = Buffer.alloc(0);
  socket.on("data", (d: Buffer) => {
    data = Buffer.concat([data, d]);
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise((r) => socket.once("connect", r));
  socket.write(Buffer.concat([H2_PREFACE, h2Frame(4, 0, 0)]));
  await eventually(
    async () => parseFrames(data),
    (frames) => frames.some((f) => f.type === 4 && f.flags === 0),
  );
  socket.write(h2Frame(4, 1, 0)); // SETTINGS ACK: the server's limits are in force
  return { socket, closed, frames: () => parseFrames(data) };
}

describe("deadlines", () => {
  it("are answered DEADLINE_EXCEEDED when they pass, and the implementation's signal is aborted", async () => {
    const { calls, l } = await slowServer(5_000);
    // A raw gRPC client that sets grpc-timeout but keeps no timer of its own: the server must answer.
    const s = await connectH2(`127.0.0.1:${l.grpcPort}`);
    const started = performance.now();
    try {
      const answer = await request(
        s,
        { ":path": VERSION, "grpc-timeout": "200m" },
        envelope(new Uint8Array()),
      );
      expect(answer.trailers["grpc-status"] ?? answer.headers["grpc-status"]).toBe(
        String(Code.DeadlineExceeded),
      );
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      s.close();
    }
    // The same through Connect's paths (gRPC-Web and Connect over HTTP/1.1) and grpc-js.
    for (const transport of [
      createGrpcWebTransport({ baseUrl: `http://127.0.0.1:${l.httpPort}`, httpVersion: "1.1" }),
      createConnectTransport({ baseUrl: `http://127.0.0.1:${l.httpPort}`, httpVersion: "1.1" }),
    ]) {
      const err = await createClient(AdminService, transport)
        .getVersion({}, { timeoutMs: 200 })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: Code.DeadlineExceeded });
    }
    const client = new grpc.Client(`127.0.0.1:${l.grpcPort}`, grpc.credentials.createInsecure());
    try {
      const code = await new Promise<number>((resolve) =>
        client.makeUnaryRequest(
          VERSION,
          () => Buffer.alloc(0),
          (b: Buffer) => b,
          {},
          new grpc.Metadata(),
          { deadline: Date.now() + 200 },
          (e) => resolve(e?.code ?? 0),
        ),
      );
      expect(code).toBe(grpc.status.DEADLINE_EXCEEDED);
    } finally {
      client.close();
    }
    // Every call's work was stopped at its deadline (or when its client gave up), none ran to its end.
    await eventually(
      async () => calls.ended,
      (e) => e.length === 4,
    );
    expect(calls.ended.filter((e) => e === "finished")).toEqual([]);
    expect(calls.ended.some((e) => e.includes("deadline_exceeded"))).toBe(true);
  });
});

describe("concurrent streams per connection", () => {
  it("are advertised and kept to: a gRPC client queues the rest, a client that ignores it is refused", async () => {
    const { calls, l } = await slowServer(100, { limits: { ...DEFAULT_LIMITS, maxConcurrentStreams: 2 } });
    const client = new grpc.Client(`127.0.0.1:${l.grpcPort}`, grpc.credentials.createInsecure());
    try {
      const one = () =>
        new Promise<number>((resolve) =>
          client.makeUnaryRequest(
            VERSION,
            () => Buffer.alloc(0),
            (b: Buffer) => b,
            {},
            (e) => resolve(e?.code ?? 0),
          ),
        );
      expect(await Promise.all(Array.from({ length: 6 }, one))).toEqual([0, 0, 0, 0, 0, 0]);
      expect(calls.most).toBe(2);
    } finally {
      client.close();
    }
    // A client opening a third stream despite the SETTINGS: HTTP/2 refuses it (GOAWAY), other connections go on.
    const raw = await rawClient(l.grpcPort);
    raw.socket.write(Buffer.concat([1, 3, 5].map((id) => h2Frame(1, 4, id, grpcHeaders(VERSION)))));
    await raw.closed;
    expect(raw.frames().some((f) => f.type === 7)).toBe(true);
    const other = await connectH2(`127.0.0.1:${l.grpcPort}`);
    try {
      const answer = await request(other, { ":path": VERSION }, envelope(new Uint8Array()));
      expect(answer.trailers["grpc-status"]).toBe("0");
    } finally {
      other.close();
    }
  });
});

describe("slow and half-open clients", () => {
  const quick = {
    limits: { ...DEFAULT_LIMITS, requestReadTimeoutMs: 300 },
    sessionGuard: { ...DEFAULT_SESSION_GUARD, idleMs: 300, pingTimeoutMs: 300 },
  };

  it("a request body that stalls is answered and reset, and its connection closed, while others are served", async () => {
    const { l } = await slowServer(0, quick);
    const raw = await rawClient(l.grpcPort);
    // The headers and 3 of the 10 bytes a gRPC frame announces; then nothing (no END_STREAM, no ping answers).
    raw.socket.write(
      Buffer.concat([
        h2Frame(1, 4, 1, grpcHeaders(VERSION)),
        h2Frame(0, 0, 1, envelope(new Uint8Array(3), 0, 10)),
      ]),
    );
    const started = performance.now();
    const other = await connectH2(`127.0.0.1:${l.grpcPort}`);
    try {
      const answer = await request(other, { ":path": VERSION }, envelope(new Uint8Array()));
      expect(answer.trailers["grpc-status"]).toBe("0");
      expect(performance.now() - started).toBeLessThan(250);
    } finally {
      other.close();
    }
    await raw.closed;
    expect(performance.now() - started).toBeLessThan(5_000);
    const frames = raw.frames();
    // DEADLINE_EXCEEDED (trailers-only HEADERS), then RST_STREAM, before the connection went.
    expect(frames.some((f) => f.type === 1 && f.streamId === 1)).toBe(true);
    expect(frames.some((f) => f.type === 3 && f.streamId === 1)).toBe(true);
  });

  it("a client that stops answering while its call runs is cut off, and the call's work stopped", async () => {
    const { calls, l } = await slowServer(60_000, quick);
    const raw = await rawClient(l.grpcPort);
    // A whole request: the call runs (for a minute unless stopped) and the client then vanishes without a FIN.
    raw.socket.write(
      Buffer.concat([h2Frame(1, 4, 1, grpcHeaders(VERSION)), h2Frame(0, 1, 1, envelope(new Uint8Array()))]),
    );
    await eventually(
      async () => calls.running,
      (n) => n === 1,
    );
    const started = performance.now();
    await raw.closed;
    expect(performance.now() - started).toBeLessThan(5_000);
    await eventually(
      async () => calls.ended,
      (e) => e.length === 1,
    );
    expect(calls.ended[0]).toMatch(/^stopped/);
  });

  it("a client that answers pings keeps its quiet call", async () => {
    const { calls, l } = await slowServer(1_500, quick);
    const s = await connectH2(`127.0.0.1:${l.grpcPort}`);
    try {
      const answer = await request(s, { ":path": VERSION }, envelope(new Uint8Array()));
      expect(answer.trailers["grpc-status"]).toBe("0");
      expect(calls.ended).toEqual(["finished"]);
    } finally {
      s.close();
    }
  });
});
