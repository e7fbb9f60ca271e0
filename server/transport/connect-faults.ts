// Connect answers request faults (request-faults.ts) with Internal, and before any interceptor runs for unary calls.
// This rewrites those answers as they leave, for each protocol Connect serves: gRPC (the trailers), gRPC-Web (the
// trailer frame), Connect streaming (the end-stream frame) and Connect unary (the JSON error body). Every other
// answer passes through untouched, but for gRPC's grpc-message, encoded as the direct path encodes it; compressed
// frames and bodies are left as they are (error texts are short).
import { Code, ConnectError } from "@connectrpc/connect";
import {
  createAsyncIterable,
  encodeEnvelope,
  readAllBytes,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  createEndStreamSerialization,
  endStreamFlag,
  errorFromJsonBytes,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { encodeGrpcMessage, fitGrpcMessage } from "./grpc-message.js";
import { requestFault } from "./request-faults.js";

const ENVELOPE_HEADER = 5;
/** Connect unary error bodies are a few hundred bytes; anything longer is not rewritten. */
const MAX_ERROR_BODY = 64 * 1024;
const endStream = createEndStreamSerialization(undefined);

const faultOf = (e: ConnectError | undefined, input: string) =>
  e === undefined ? undefined : requestFault(e.code, e.rawMessage, input);

/** The payload of a chunk that is exactly one uncompressed frame with `flags`, or undefined. */
function frameData(chunk: Uint8Array, flags: number): Uint8Array | undefined {
  if (chunk.length < ENVELOPE_HEADER || chunk[0] !== flags) return undefined;
  const length = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength).getUint32(1);
  return length === chunk.length - ENVELOPE_HEADER ? chunk.subarray(ENVELOPE_HEADER) : undefined;
}

/** `fn`, or `fallback` when it throws: a rewrite must never cost the call its answer. */
function safely<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/** The body with each chunk mapped and `onEnd` run when it ends; `throw` and `return` reach the original. */
function mapBody(
  body: AsyncIterable<Uint8Array>,
  map: (chunk: Uint8Array) => Uint8Array,
  onEnd: () => void = () => undefined,
): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      const it = body[Symbol.asyncIterator]();
      return {
        async next() {
          const r = await it.next();
          if (r.done === true) {
            safely(onEnd, undefined);
            return r;
          }
          return { done: false, value: safely(() => map(r.value), r.value) };
        },
        throw: (e?: unknown) => it.throw?.(e) ?? Promise.reject(e),
        return: (v?: unknown) => it.return?.(v) ?? Promise.resolve({ done: true, value: undefined }),
      };
    },
  };
}

function grpcWebTrailer(chunk: Uint8Array, input: string): Uint8Array {
  const data = frameData(chunk, trailerFlag);
  if (data === undefined) return chunk;
  const trailer = trailerParse(data);
  const fault = faultOf(findTrailerError(trailer), input);
  if (fault === undefined) return chunk;
  return encodeEnvelope(trailerFlag, trailerSerialize(setTrailerStatus(trailer, fault)));
}

function connectEndStream(chunk: Uint8Array, input: string): Uint8Array {
  const data = frameData(chunk, endStreamFlag);
  if (data === undefined) return chunk;
  const end = endStream.parse(data);
  const fault = faultOf(end.error, input);
  if (fault === undefined) return chunk;
  return encodeEnvelope(endStreamFlag, endStream.serialize({ metadata: end.metadata, error: fault }));
}

async function connectUnary(
  res: UniversalServerResponse,
  body: AsyncIterable<Uint8Array>,
  input: string,
): Promise<UniversalServerResponse> {
  const length = Number(res.header?.get("content-length"));
  if (!(length <= MAX_ERROR_BODY)) return res;
  const bytes = await readAllBytes(body, MAX_ERROR_BODY);
  const unchanged = { ...res, body: createAsyncIterable([bytes]) };
  const error = safely(
    () => errorFromJsonBytes(bytes, undefined, new ConnectError("", Code.Unknown)),
    undefined,
  );
  const fault = faultOf(error, input);
  if (fault === undefined) return unchanged;
  const json = errorToJsonBytes(fault, undefined);
  const header = new Headers(res.header);
  header.set("content-length", String(json.byteLength));
  return { ...res, status: codeToHttpStatus(fault.code), header, body: createAsyncIterable([json]) };
}

/** grpc-message as the direct path sends it (grpc-message.ts), not as Connect encodes it. */
function specEncodedMessage(h: Headers): void {
  const message = h.get("grpc-message");
  if (message === null) return;
  const text = safely(() => decodeURIComponent(message), undefined);
  if (text !== undefined) h.set("grpc-message", encodeGrpcMessage(fitGrpcMessage(text)));
}

/** Connect's answer with request faults reported as InvalidArgument (and grpc-message encoded as the spec says). `input` names the request message type. */
export async function answerRequestFaults(
  res: UniversalServerResponse,
  input: string,
): Promise<UniversalServerResponse> {
  const { body, header, trailer } = res;
  if (body === undefined || header === undefined) return res;
  const type = header.get("content-type") ?? "";
  if (type.startsWith("application/grpc-web")) {
    return { ...res, body: mapBody(body, (c) => grpcWebTrailer(c, input)) };
  }
  if (type.startsWith("application/grpc")) {
    specEncodedMessage(header); // a trailers-only answer
    if (trailer === undefined) return res;
    return {
      ...res,
      body: mapBody(
        body,
        (c) => c,
        () => {
          const fault = faultOf(findTrailerError(trailer), input);
          if (fault !== undefined) setTrailerStatus(trailer, fault);
          specEncodedMessage(trailer);
        },
      ),
    };
  }
  if (type.startsWith("application/connect+")) {
    return { ...res, body: mapBody(body, (c) => connectEndStream(c, input)) };
  }
  if (res.status === 500 && type === "application/json" && !header.has("content-encoding")) {
    return connectUnary(res, body, input);
  }
  return res;
}
