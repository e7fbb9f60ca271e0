// One gRPC call on the direct path (grpc-direct.ts): what Connect's gRPC handler keeps per call (response headers
// and trailers, negotiated compression, deadline, abort signal) and how it writes frames, without its async-iterable
// pipeline. The abort signal and deadline timer are made only when the implementation asks for the signal.
import type http2 from "node:http2";
import type { DescMethod, Message } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createHandlerContext,
  type HandlerContext,
  type StreamRequest,
  type UnaryRequest,
} from "@connectrpc/connect";
import { type Compression, compressionNegotiate, type Serialization } from "@connectrpc/connect/protocol";
import { parseContentType, parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { universalRequestFromNodeRequest } from "@connectrpc/connect-node";
import { encodeGrpcMessage, fitGrpcMessage } from "./grpc-message.js";
import { peerValues } from "./peer.js";

export interface CallOptions {
  readonly acceptCompression: readonly Compression[];
  readonly compressMinBytes: number;
  readonly maxTimeoutMs: number;
}

const ENVELOPE_HEADER = 5;

function header(req: http2.Http2ServerRequest, name: string): string | null {
  const v = req.headers[name];
  return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
}

/** Whether the request's headers ask for nothing the direct path leaves to Connect (POST, binary, identity). */
export function isPlainGrpc(req: http2.Http2ServerRequest, maxTimeoutMs: number): boolean {
  if (req.method !== "POST" || req.authority === undefined) return false;
  if (parseContentType(header(req, "content-type"))?.binary !== true) return false;
  const encoding = header(req, "grpc-encoding");
  if (encoding !== null && encoding !== "identity") return false;
  return parseTimeout(header(req, "grpc-timeout"), maxTimeoutMs).error === undefined;
}

function requestHeaders(req: http2.Http2ServerRequest): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (k.startsWith(":") || v === undefined) continue;
    if (typeof v === "string") h.append(k, v);
    else for (const e of v) h.append(k, e);
  }
  return h;
}

function nodeHeaders(h: Headers): http2.OutgoingHttpHeaders {
  const o: Record<string, string | string[]> = Object.create(null);
  h.forEach((value, key) => {
    const existing = o[key];
    if (existing === undefined) o[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else o[key] = [existing, value];
  });
  return o;
}

export function copyHeaders(from: Headers, to: Headers): void {
  if (from === to) return;
  for (const key of [...to.keys()]) to.delete(key);
  from.forEach((value, key) => {
    to.set(key, value);
  });
}

export class GrpcCall {
  readonly responseHeader = new Headers({ "content-type": "application/grpc+proto" });
  readonly responseTrailer = new Headers({ "grpc-status": "0" });
  private readonly compression: Compression | null;
  private readonly timeoutMs: number | undefined;
  private readonly deadline: number | undefined;
  private controller: ReturnType<typeof createHandlerContext> | undefined;
  private url: string | undefined;

  constructor(
    readonly method: DescMethod,
    readonly req: http2.Http2ServerRequest,
    readonly res: http2.Http2ServerResponse,
    private readonly opts: CallOptions,
  ) {
    this.timeoutMs = parseTimeout(header(req, "grpc-timeout"), opts.maxTimeoutMs).timeoutMs;
    this.deadline = this.timeoutMs === undefined ? undefined : Date.now() + this.timeoutMs;
    // A response is compressed only as its request was (see answersAsRequested in rpc-adapter.ts).
    this.compression = compressionNegotiate(
      [...opts.acceptCompression],
      header(req, "grpc-encoding"),
      null,
      "Grpc-Accept-Encoding",
    ).response;
    if (this.compression !== null) this.responseHeader.set("Grpc-Encoding", this.compression.name);
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = createHandlerContext({
        service: this.method.parent,
        method: this.method,
        protocolName: "grpc",
        requestMethod: "POST",
        url: "",
        ...(this.timeoutMs === undefined ? {} : { timeoutMs: this.timeoutMs }),
        requestSignal: universalRequestFromNodeRequest(this.req, this.res, undefined, undefined).signal,
      });
      if (this.req.stream.closed) this.controller.abort();
    }
    return this.controller.signal;
  }

  /** Ends the call's signal (as Connect does when a call is over), with the error that ended it. */
  abort(reason?: unknown): void {
    this.controller?.abort(reason);
  }

  /** The request interceptors see (getters: the URL and the signal cost only when read). */
  request<S extends boolean>(
    stream: S,
    message: S extends true ? AsyncIterable<Message> : Message,
  ): S extends true ? StreamRequest : UnaryRequest {
    const call = this;
    return {
      stream,
      message,
      method: this.method,
      service: this.method.parent,
      requestMethod: "POST",
      get url() {
        call.url ??= new URL(call.req.url, `http://${call.req.authority}`).toString();
        return call.url;
      },
      get signal() {
        return call.signal;
      },
      header: requestHeaders(this.req),
      contextValues: peerValues(this.req.socket),
    } as S extends true ? StreamRequest : UnaryRequest;
  }

  /** What the implementation sees, from the request as the interceptors pass it on. */
  context(r: UnaryRequest | StreamRequest): HandlerContext {
    const deadline = this.deadline;
    return {
      method: this.method,
      service: r.service,
      get signal() {
        return r.signal;
      },
      timeoutMs: () => (deadline === undefined ? undefined : deadline - Date.now()),
      requestMethod: r.requestMethod,
      requestHeader: r.header,
      responseHeader: this.responseHeader,
      responseTrailer: this.responseTrailer,
      protocolName: "grpc",
      values: r.contextValues,
      get url() {
        return r.url;
      },
    };
  }

  /** A response message as a gRPC frame (size limit, then compression at compressMinBytes). */
  async frame(output: Serialization<Message>, message: Message): Promise<Buffer> {
    const serialized = output.serialize(message);
    const compress = this.compression !== null && serialized.byteLength >= this.opts.compressMinBytes;
    const data =
      compress && this.compression !== null ? await this.compression.compress(serialized) : serialized;
    const frame = Buffer.allocUnsafe(ENVELOPE_HEADER + data.byteLength);
    frame[0] = compress ? 1 : 0;
    frame.writeUInt32BE(data.byteLength, 1);
    frame.set(data, ENVELOPE_HEADER);
    return frame;
  }

  /** False once the client is gone. */
  get open(): boolean {
    return !this.req.stream.destroyed;
  }

  /** Writes a frame (headers first), waiting while the stream is full; false when the client is gone. */
  async send(frame: Buffer): Promise<boolean> {
    if (!this.open) return false;
    if (!this.res.headersSent) this.res.writeHead(200, nodeHeaders(this.responseHeader));
    if (this.res.write(frame)) return true;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.res.off("drain", done);
        this.req.stream.off("close", done);
        resolve();
      };
      this.res.once("drain", done);
      this.req.stream.once("close", done);
    });
    return this.open;
  }

  /** Puts the error into the trailers, as Connect does (errors other than ConnectError become internal). */
  fail(e: unknown): void {
    this.abort(e);
    const error =
      e instanceof ConnectError
        ? e
        : new ConnectError("internal error", Code.Internal, undefined, undefined, e);
    setTrailerStatus(this.responseTrailer, error);
    this.responseTrailer.set("grpc-message", encodeGrpcMessage(fitGrpcMessage(error.rawMessage)));
  }

  /** Headers (when no frame went), trailers, end of stream; the last frame of a unary call goes with them. */
  end(last?: Buffer): void {
    this.abort();
    if (!this.open) return;
    if (!this.res.headersSent) this.res.writeHead(200, nodeHeaders(this.responseHeader));
    this.res.addTrailers(nodeHeaders(this.responseTrailer));
    if (last === undefined) this.res.end();
    else this.res.end(last);
  }
}
