// Raw wire helpers for transport tests: plain sockets, raw HTTP/2 requests and hand-built gRPC frames.
import http2 from "node:http2";
import net from "node:net";

export interface RawAnswer {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly trailers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A gRPC length-prefixed frame; `declared` overrides the length prefix (to lie about it). */
export function envelope(message: Uint8Array, flags = 0, declared = message.length): Buffer {
  const b = Buffer.alloc(5 + message.length);
  b[0] = flags;
  b.writeUInt32BE(declared, 1);
  b.set(message, 5);
  return b;
}

/** Sends one request on an HTTP/2 session and collects the whole answer. */
export function request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body: Uint8Array | undefined,
  opts: { endStream?: boolean } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request(
      { ":method": "POST", "content-type": "application/grpc", te: "trailers", ...headers },
      { endStream: false },
    );
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
      // Trailers-only answers carry the status in the headers.
      const t = trailers["grpc-status"] === undefined ? response : trailers;
      resolve({
        status: Number(response[":status"]),
        headers: response,
        trailers: t,
        body: Buffer.concat(chunks),
      });
    });
    if (opts.endStream === false) {
      if (body !== undefined) stream.write(body);
    } else stream.end(body);
  });
}

export interface Exchange {
  readonly data: Buffer;
  /** Whether the server closed the connection (rather than `until` matching). */
  readonly closed: boolean;
}

/**
 * Opens a plain TCP connection, writes `bytes`, and collects what comes back until the server closes the
 * connection or `until` holds for what came so far; fails when neither happens within `timeoutMs`.
 */
export function rawExchange(
  port: number,
  bytes: Uint8Array,
  until: (data: Buffer) => boolean = () => false,
  timeoutMs = 10_000,
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, "127.0.0.1", () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `no answer and no close within ${timeoutMs} ms; got ${Buffer.concat(chunks).toString("hex")}`,
        ),
      );
    }, timeoutMs);
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), closed });
    };
    socket.on("data", (c: Buffer) => {
      chunks.push(c);
      if (until(Buffer.concat(chunks))) {
        socket.removeAllListeners("close");
        socket.destroy();
        finish(false);
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => finish(true));
  });
}

export const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** One HTTP/2 frame (RFC 9113 §4.1); `length` overrides the length field (to lie about it). */
export function h2Frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array = new Uint8Array(),
  length = payload.length,
): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

export interface H2Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** The complete frames at the start of what a server sent (after no preface: servers send none). */
export function parseFrames(data: Buffer): H2Frame[] {
  const frames: H2Frame[] = [];
  for (let at = 0; at + 9 <= data.length; ) {
    const length = data.readUIntBE(at, 3);
    if (at + 9 + length > data.length) break;
    const payload = data.subarray(at + 9, at + 9 + length);
    frames.push({
      type: data[at + 3] ?? 0,
      flags: data[at + 4] ?? 0,
      streamId: data.readUInt32BE(at + 5),
      payload,
    });
    at += 9 + length;
  }
  return frames;
}

/** The error code of the first GOAWAY frame in what a server sent, or undefined. */
export function goawayCode(data: Buffer): number | undefined {
  const goaway = parseFrames(data).find((f) => f.type === 7);
  return goaway === undefined ? undefined : goaway.payload.readUInt32BE(4);
}

/**
 * Opens a plain TCP connection that sends nothing and, with `allowHalfOpen`, stays open when the server ends its
 * side (a client that never closes); close it with `destroy()`.
 */
export function idleConnection(port: number, allowHalfOpen = false): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** An HTTP/2 session that is connected (settings exchanged). */
export function connectH2(address: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(`http://${address}`);
    s.once("connect", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
}

/** The length-prefixed frames of a gRPC, gRPC-Web or Connect streaming body. */
export function envelopes(body: Uint8Array): { flags: number; data: Buffer }[] {
  const b = Buffer.from(body);
  const out: { flags: number; data: Buffer }[] = [];
  for (let at = 0; at + 5 <= b.length; ) {
    const length = b.readUInt32BE(at + 1);
    out.push({ flags: b[at] ?? 0, data: b.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

/** A deterministic stand-in for random bytes. */
export function noise(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    b[i] = x >> 16;
  }
  return b;
}
