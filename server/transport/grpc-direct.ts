// A direct path for plain gRPC calls over HTTP/2 (identity-encoded protobuf, one request message: unary and
// server-streaming). It answers exactly as Connect's gRPC handler does (same interceptors, serialization, limits,
// compression, headers and trailers) without the per-call async-iterable pipeline, abort controllers and URL
// parsing, which cost more CPU than the rest of a cheap rpc. Anything else is handed to Connect before a byte is
// answered (grpc-direct.test.ts compares both paths).
import type http2 from "node:http2";
import { create, type Message } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type Interceptor,
  type MethodImplSpec,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import {
  createMethodSerializationLookup,
  limitSerialization,
  type Serialization,
  type UniversalHandlerOptions,
} from "@connectrpc/connect/protocol";
import { wireOf } from "../transformers/wire-answers.js";
import { type CallOptions, copyHeaders, GrpcCall } from "./grpc-call.js";
import { asRequestFault } from "./request-faults.js";

type DirectSpec = Extract<MethodImplSpec, { kind: "unary" | "server_streaming" }>;

export interface DirectMethod {
  readonly spec: DirectSpec;
  readonly input: Serialization<Message>;
  readonly output: Serialization<Message>;
}

export function directMethod(spec: MethodImplSpec, opt: UniversalHandlerOptions): DirectMethod | undefined {
  if (spec.kind !== "unary" && spec.kind !== "server_streaming") return undefined;
  const s = createMethodSerializationLookup(spec.method, opt.binaryOptions, opt.jsonOptions, opt);
  const output = s.getO(true);
  // An answer that carries its own encoding (wire-answers.ts) is sent as is, within the same size limit.
  const limited = limitSerialization<Uint8Array<ArrayBuffer>>(
    { serialize: (b) => b, parse: (b) => new Uint8Array(b) },
    opt,
  );
  return {
    spec,
    input: s.getI(true),
    output: {
      parse: output.parse,
      serialize: (m) => {
        const wire = wireOf(m);
        return wire === undefined ? output.serialize(m) : limited.serialize(wire);
      },
    },
  };
}

export interface DirectOptions extends CallOptions {
  readonly interceptors: readonly Interceptor[];
}

/** Hands a call to Connect with the request body bytes read so far (then the rest of the stream unless it ended). */
export type HandOff = (read: readonly Uint8Array[], ended: boolean) => void;

const ENVELOPE_HEADER = 5;

/** Reads the body; a single uncompressed message within limits goes on to `serve`, anything else to Connect. */
export function readMessage(
  req: http2.Http2ServerRequest,
  readMaxBytes: number,
  serve: (message: Uint8Array) => void,
  handOff: HandOff,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let declared = -1;
  const detach = () => {
    req.off("data", onData);
    req.off("end", onEnd);
    req.off("error", onError);
    req.off("aborted", detach);
  };
  const giveUp = () => {
    detach();
    req.pause();
    handOff(chunks, false);
  };
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (declared < 0 && size >= ENVELOPE_HEADER) {
      const head = chunks.length === 1 ? chunk : Buffer.concat(chunks);
      declared = head.readUInt32BE(1);
      if (head[0] !== 0 || declared > readMaxBytes) return giveUp();
    }
    if (declared >= 0 && size > ENVELOPE_HEADER + declared) giveUp();
  };
  const onEnd = () => {
    detach();
    if (declared < 0 || size !== ENVELOPE_HEADER + declared) return handOff(chunks, true);
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    serve(body.subarray(ENVELOPE_HEADER));
  };
  const onError = () => giveUp();
  req.on("data", onData);
  req.on("end", onEnd);
  req.on("error", onError);
  // Reset before its body arrived (the client's cancel, a stalled upload cut off): there is nothing to answer.
  req.on("aborted", detach);
}

type AnyFn = (r: UnaryRequest | StreamRequest) => Promise<UnaryResponse | StreamResponse>;

const chain = (interceptors: readonly Interceptor[], last: AnyFn): AnyFn =>
  interceptors.reduceRight((next, interceptor) => interceptor(next), last);

/** Connect's check that a streaming request carries exactly one message. */
async function single(messages: AsyncIterable<Message>): Promise<Message> {
  const it = messages[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) {
    throw new ConnectError(
      "protocol error: missing input message for server-streaming method",
      Code.Unimplemented,
    );
  }
  if ((await it.next()).done !== true) {
    throw new ConnectError(
      "protocol error: received extra input message for server-streaming method",
      Code.Unimplemented,
    );
  }
  return first.value;
}

/** The request message; bytes that do not decode are the client's fault (InvalidArgument), as on Connect's path. */
function parse(m: DirectMethod, bytes: Uint8Array): Message {
  try {
    return m.input.parse(bytes);
  } catch (err) {
    throw asRequestFault(err, m.spec.method.input.typeName);
  }
}

async function* one(message: Message): AsyncIterable<Message> {
  yield message;
}

/** Runs one call whose request message bytes have been read, and writes the response. */
export async function serveDirect(
  m: DirectMethod,
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
  bytes: Uint8Array,
  opts: DirectOptions,
): Promise<void> {
  const { spec } = m;
  const call = new GrpcCall(spec.method, req, res, opts);
  const reply = { header: call.responseHeader, trailer: call.responseTrailer } as const;
  let last: Buffer | undefined;
  try {
    const input = parse(m, bytes);
    if (spec.kind === "unary") {
      const invoke: AnyFn = async (r) => {
        if (r.stream) throw new ConnectError("unary call got a stream request", Code.Internal);
        const out = await spec.impl(r.message, call.context(r));
        const message = create(spec.method.output, out);
        return { method: spec.method, service: spec.method.parent, ...reply, stream: false, message };
      };
      const response = await chain(opts.interceptors, invoke)(call.request(false, input));
      if (response.stream) throw new ConnectError("unary call got a stream response", Code.Internal);
      copyHeaders(response.header, call.responseHeader);
      copyHeaders(response.trailer, call.responseTrailer);
      last = await call.frame(m.output, response.message);
    } else {
      const invoke: AnyFn = async (r) => {
        if (!r.stream) throw new ConnectError("streaming call got a unary request", Code.Internal);
        const out = spec.impl(await single(r.message), call.context(r));
        const message = normalized(spec.method.output, out);
        return { method: spec.method, service: spec.method.parent, ...reply, stream: true, message };
      };
      const response = await chain(opts.interceptors, invoke)(call.request(true, one(input)));
      if (!response.stream) throw new ConnectError("streaming call got a unary response", Code.Internal);
      copyHeaders(response.header, call.responseHeader);
      await sendAll(call, m.output, response.message);
      copyHeaders(response.trailer, call.responseTrailer);
    }
  } catch (e) {
    call.fail(e);
    last = undefined;
  }
  call.end(last);
}

/** Writes each message as it comes; stops reading (and ends the source) when the client is gone. */
async function sendAll(call: GrpcCall, output: Serialization<Message>, messages: AsyncIterable<Message>) {
  const it = messages[Symbol.asyncIterator]();
  try {
    for (let r = await it.next(); r.done !== true; r = await it.next()) {
      if (!(await call.send(await call.frame(output, r.value)))) return;
    }
  } finally {
    await it.return?.();
  }
}

async function* normalized(
  schema: DirectSpec["method"]["output"],
  messages: AsyncIterable<unknown>,
): AsyncIterable<Message> {
  for await (const m of messages) yield create(schema, m as never);
}
