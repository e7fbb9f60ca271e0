// One call with raw request bytes in each protocol Petrel serves, reduced to the status it answers: gRPC (over an
// HTTP/2 session), and Connect unary, Connect streaming and gRPC-Web (over fetch, on the HTTP/1.1 port).
import type http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { Code } from "@connectrpc/connect";
import { envelope, envelopes, request } from "./raw-wire.js";

export interface Status {
  readonly code: Code;
  readonly message: string;
}

const fromGrpc = (h: http2.IncomingHttpHeaders | Headers): Status => {
  const get = (k: string) => (h instanceof Headers ? h.get(k) : h[k]) ?? "";
  return {
    code: Number(get("grpc-status")) as Code,
    message: decodeURIComponent(String(get("grpc-message"))),
  };
};

/** Connect's lower_snake code names. */
const fromConnect = (e: { code?: string; message?: string }): Status => ({
  code: Code[
    (e.code ?? "").replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase()) as keyof typeof Code
  ],
  message: e.message ?? "",
});

/** gRPC over an HTTP/2 session: the status of the trailers (or of a trailers-only answer); gzipped with `gzip`. */
export async function grpcCall(
  session: http2.ClientHttp2Session,
  path: string,
  message: Uint8Array,
  gzip = false,
): Promise<Status> {
  const headers = gzip ? { ":path": path, "grpc-encoding": "gzip" } : { ":path": path };
  const body = gzip ? envelope(gzipSync(message), 1) : envelope(message);
  return fromGrpc((await request(session, headers, body)).trailers);
}

/** A gRPC-Web request with the body as given: the HTTP status, and the status of the trailer frame if any. */
export async function grpcWebRaw(
  baseUrl: string,
  path: string,
  body: Uint8Array,
  contentType = "application/grpc-web+proto",
): Promise<{ status: number; trailer?: Status }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": contentType, "x-grpc-web": "1" },
    body,
  });
  const frames = envelopes(new Uint8Array(await res.arrayBuffer()));
  const trailer = frames.find((f) => (f.flags & 0x80) !== 0);
  if (trailer === undefined) return { status: res.status };
  const h = new Headers();
  for (const line of trailer.data.toString().split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) h.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return { status: res.status, trailer: fromGrpc(h) };
}

/** gRPC-Web (binary): the status of the trailer frame. */
export async function grpcWebCall(baseUrl: string, path: string, message: Uint8Array): Promise<Status> {
  const { trailer } = await grpcWebRaw(baseUrl, path, envelope(message));
  if (trailer === undefined) throw new Error("gRPC-Web answer without a trailer frame");
  return trailer;
}

/** Connect unary (binary): the HTTP status and the JSON error. */
export async function connectUnaryCall(
  baseUrl: string,
  path: string,
  message: Uint8Array,
): Promise<Status & { status: number }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/proto", "connect-protocol-version": "1" },
    body: message,
  });
  return { status: res.status, ...fromConnect((await res.json()) as { code?: string; message?: string }) };
}

/** Connect streaming (binary): the error of the end-stream frame. */
export async function connectStreamCall(baseUrl: string, path: string, message: Uint8Array): Promise<Status> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/connect+proto", "connect-protocol-version": "1" },
    body: envelope(message),
  });
  const frames = envelopes(new Uint8Array(await res.arrayBuffer()));
  const end = frames.find((f) => (f.flags & 0x02) !== 0);
  if (end === undefined) throw new Error("Connect stream without an end-stream frame");
  const json = JSON.parse(end.data.toString()) as { error?: { code?: string; message?: string } };
  return fromConnect(json.error ?? {});
}

/**
 * The status a request message gets on the direct gRPC path and on each protocol of Connect's path: gRPC (a query
 * string keeps a call off the direct path; so does compression), gRPC-Web, and Connect (unary, or streaming for a
 * server-streaming `path`).
 */
export async function statusOnEveryPath(
  session: http2.ClientHttp2Session,
  baseUrl: string,
  path: string,
  message: Uint8Array,
  streaming: boolean,
) {
  return {
    direct: await grpcCall(session, path, message),
    connectGrpc: await grpcCall(session, `${path}?via=connect`, message),
    connectGrpcGzip: await grpcCall(session, path, message, true),
    grpcWeb: await grpcWebCall(baseUrl, path, message),
    connect: await (streaming
      ? connectStreamCall(baseUrl, path, message)
      : connectUnaryCall(baseUrl, path, message)),
  };
}
