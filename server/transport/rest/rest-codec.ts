// How the REST gateway reads requests and writes answers, as FlyteAdmin's grpc-gateway does: `application/json`
// with proto field names, `application/octet-stream` as binary protobuf, anything else lowerCamelCase JSON; every
// form gives enums by name and 64-bit integers as strings and emits default values. Errors are google.rpc.Status
// JSON ({code, message, details}) with grpc-gateway's HTTP status for the code.
import type http from "node:http";
import {
  create,
  createRegistry,
  type DescFile,
  type DescMessage,
  fromBinary,
  fromJson,
  type JsonObject,
  type JsonValue,
  type Message,
  mergeFromBinary,
  type Registry,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { type Any, AnySchema, anyPack } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";

export type Marshaler = "json" | "camel" | "binary";

const MIME: Record<string, Marshaler> = {
  "application/json": "json",
  "application/octet-stream": "binary",
};

const mediaType = (v: string | undefined) => v?.split(";")[0]?.trim().toLowerCase();

/** The inbound and outbound forms (grpc-gateway's MarshalerForRequest: Accept, then Content-Type, else JSON). */
export function marshalersFor(req: http.IncomingMessage): { inbound: Marshaler; outbound: Marshaler } {
  const inbound = MIME[mediaType(req.headers["content-type"]) ?? ""] ?? "camel";
  const accepted = (req.headers.accept ?? "").split(",").map((a) => MIME[mediaType(a) ?? ""]);
  const outbound = accepted.find((m) => m !== undefined) ?? inbound;
  return { inbound, outbound };
}

/** Every message type of the files the services use (and their imports): for google.protobuf.Any in answers. */
export function typeRegistry(files: readonly DescFile[]): Registry {
  const all = new Map<string, DescFile>();
  const visit = (f: DescFile) => {
    if (all.has(f.proto.name)) return;
    all.set(f.proto.name, f);
    for (const d of f.dependencies) visit(d);
  };
  for (const f of files) visit(f);
  return createRegistry(...all.values());
}

/**
 * The request message: the body (for `body: "*"` routes) with the path variables and query parameters set over
 * it. Throws a ConnectError (InvalidArgument) for a body that is not the message.
 */
export function decodeRequest(
  schema: DescMessage,
  body: Uint8Array | undefined,
  inbound: Marshaler,
  params: JsonObject,
): Message {
  let msg: Message;
  try {
    msg = fromJson(schema, params);
    if (body !== undefined && body.length > 0) {
      const fromBody =
        inbound === "binary"
          ? fromBinary(schema, body)
          : fromJson(schema, JSON.parse(new TextDecoder().decode(body)) as JsonValue, {
              ignoreUnknownFields: inbound === "camel",
            });
      // Path fields win over the body's: merge the path's message over the body's.
      msg = mergeFromBinary(schema, fromBody, toBinary(schema, msg));
    }
  } catch (err) {
    throw new ConnectError(err instanceof Error ? err.message : String(err), Code.InvalidArgument);
  }
  return msg;
}

export interface Encoded {
  readonly contentType: string;
  readonly bytes: Uint8Array | string;
}

export function encodeMessage(
  schema: DescMessage,
  msg: Message,
  outbound: Marshaler,
  registry: Registry,
): Encoded {
  if (outbound === "binary") return { contentType: "application/octet-stream", bytes: toBinary(schema, msg) };
  const json = toJson(schema, msg, {
    alwaysEmitImplicit: true,
    useProtoFieldName: outbound === "json",
    registry,
  });
  return { contentType: "application/json", bytes: JSON.stringify(json) };
}

/** grpc-gateway's HTTPStatusFromCode. */
export function httpStatusOf(code: Code): number {
  switch (code) {
    case Code.Canceled:
      return 499;
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.OutOfRange:
      return 400;
    case Code.DeadlineExceeded:
      return 504;
    case Code.NotFound:
      return 404;
    case Code.AlreadyExists:
    case Code.Aborted:
      return 409;
    case Code.PermissionDenied:
      return 403;
    case Code.Unauthenticated:
      return 401;
    case Code.ResourceExhausted:
      return 429;
    case Code.Unimplemented:
      return 501;
    case Code.Unavailable:
      return 503;
    default:
      return 500;
  }
}

/** The google.rpc.Status of an error: details as google.protobuf.Any (by name and fields where the type is known). */
export function encodeError(err: ConnectError, outbound: Marshaler, registry: Registry): Encoded {
  const details = err.details.map((d) => {
    if ("desc" in d) return anyPack(d.desc, create(d.desc, d.value));
    return create(AnySchema, { typeUrl: `type.googleapis.com/${d.type}`, value: d.value });
  });
  if (outbound === "binary") {
    // google.rpc.Status on the wire: code = 1, message = 2, details = 3.
    return { contentType: "application/octet-stream", bytes: encodeStatusBinary(err, details) };
  }
  const json = {
    code: err.code,
    message: err.rawMessage,
    details: details.map((a) => {
      try {
        return toJson(AnySchema, a, { registry, useProtoFieldName: outbound === "json" });
      } catch {
        return { "@type": a.typeUrl, value: Buffer.from(a.value).toString("base64") } as JsonObject;
      }
    }),
  };
  return { contentType: "application/json", bytes: JSON.stringify(json) };
}

function encodeStatusBinary(err: ConnectError, details: readonly Any[]): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).int32(err.code);
  if (err.rawMessage !== "") w.tag(2, WireType.LengthDelimited).string(err.rawMessage);
  for (const d of details) w.tag(3, WireType.LengthDelimited).bytes(toBinary(AnySchema, d));
  return w.finish();
}
