// The REST gateway on the HTTP port: FlyteAdmin's /api/v1 routes, each dispatched to the same Connect handler the
// gRPC and Connect routes use (interceptors included), so codes, messages and details are the same as over gRPC.
import { randomUUID } from "node:crypto";
import type http from "node:http";
import type { DescMethod } from "@bufbuild/protobuf";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import type { HttpRoute } from "../http-routes.js";
import { peerValues } from "../peer.js";
import {
  decodeRequest,
  encodeError,
  encodeMessage,
  httpStatusOf,
  type Marshaler,
  marshalersFor,
  typeRegistry,
} from "./rest-codec.js";
import { matchTemplate, ParamError, type PathTemplate, paramsToJson, parseTemplate } from "./rest-params.js";
import { type RestBinding, restBindings } from "./rest-routes.js";

/** The Connect handler serving an rpc, by its path (`/flyteidl.service.AdminService/GetTask`). */
export type HandlerLookup = (requestPath: string) => UniversalHandler | undefined;

export interface RestGatewayOptions {
  readonly maxBodyBytes: number;
}

/** Request headers passed on to the rpc (credentials, request id, client). */
const FORWARDED = [
  "authorization",
  "flyte-authorization",
  "cookie",
  "x-request-id",
  "user-agent",
  "x-forwarded-for",
];

const PREFIX = "/api/v1/";

interface Compiled extends RestBinding {
  readonly template: PathTemplate;
}

async function readBody(req: http.IncomingMessage, max: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new ConnectError(`request body larger than ${max} bytes`, Code.ResourceExhausted);
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

async function readAll(body: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array> {
  if (body === undefined) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  return new Uint8Array(Buffer.concat(chunks));
}

/** Calls the rpc's Connect handler with a binary Connect unary request; resolves to the answer or rejects with its error. */
async function invoke(
  handler: UniversalHandler,
  method: DescMethod,
  input: Uint8Array,
  req: http.IncomingMessage,
  requestId: string,
  signal: AbortSignal,
): Promise<{ output: Uint8Array; header: Headers }> {
  const header = new Headers({ "content-type": "application/proto", "connect-protocol-version": "1" });
  for (const name of FORWARDED) {
    const v = req.headers[name];
    if (typeof v === "string") header.set(name, v);
  }
  header.set("x-request-id", requestId);
  const res = await handler({
    httpVersion: req.httpVersion,
    url: `http://localhost${handler.requestPath}`,
    method: "POST",
    header,
    body: (async function* () {
      yield input;
    })(),
    signal,
    contextValues: peerValues(req.socket),
  });
  const bytes = await readAll(res.body);
  const resHeader = res.header ?? new Headers();
  if (res.status === 200) return { output: bytes, header: resHeader };
  throw errorFromJsonBytes(
    bytes,
    resHeader,
    new ConnectError(`${method.name} answered HTTP ${res.status}`, Code.Internal),
  );
}

function send(
  res: http.ServerResponse,
  status: number,
  encoded: { contentType: string; bytes: Uint8Array | string },
  requestId?: string | null,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: http.OutgoingHttpHeaders = { "content-type": encoded.contentType };
  if (requestId) headers["x-request-id"] = requestId;
  res.writeHead(status, headers).end(encoded.bytes);
}

export function restGatewayRoute(lookup: HandlerLookup, opts: RestGatewayOptions): HttpRoute {
  const routes: Compiled[] = restBindings().map((b) => ({ ...b, template: parseTemplate(b.path) }));
  const registry = typeRegistry([...new Set(routes.map((r) => r.method.parent.file))]);

  const fail = (
    res: http.ServerResponse,
    err: ConnectError,
    outbound: Marshaler,
    requestId?: string | null,
    status = httpStatusOf(err.code),
  ) => send(res, status, encodeError(err, outbound, registry), requestId);

  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (!url.pathname.startsWith(PREFIX)) return false;
    const { inbound, outbound } = marshalersFor(req);
    let parts: string[];
    try {
      parts = url.pathname.split("/").slice(1).map(decodeURIComponent);
    } catch {
      fail(res, new ConnectError("invalid percent-encoding in the path", Code.InvalidArgument), outbound);
      return true;
    }
    const matching = routes
      .map((r) => ({ r, vars: matchTemplate(r.template, parts) }))
      .filter((m) => m.vars !== undefined);
    // As grpc-gateway's routing errors: no template matches → 404, no binding for the verb → 405.
    if (matching.length === 0) {
      fail(res, new ConnectError("Not Found", Code.NotFound), outbound);
      return true;
    }
    const found = matching.find((m) => m.r.verb === req.method);
    if (found === undefined) {
      fail(res, new ConnectError("Method Not Allowed", Code.Unimplemented), outbound, undefined, 405);
      return true;
    }
    const { r, vars = [] } = found;
    const handler = lookup(`/${r.method.parent.typeName}/${r.method.name}`);
    if (handler === undefined) {
      fail(res, new ConnectError("Not Found", Code.NotFound), outbound);
      return true;
    }
    // One request id for the call, the answer and every log line: the client's, or a new one.
    const given = req.headers["x-request-id"];
    const requestId = typeof given === "string" && given !== "" ? given : randomUUID();
    const aborted = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) aborted.abort();
    });
    return (async () => {
      try {
        const body = r.body ? await readBody(req, opts.maxBodyBytes) : undefined;
        let params: ReturnType<typeof paramsToJson>;
        try {
          params = paramsToJson(r.method.input, vars, r.body ? undefined : url.searchParams);
        } catch (err) {
          if (err instanceof ParamError) throw new ConnectError(err.message, Code.InvalidArgument);
          throw err;
        }
        const msg = decodeRequest(r.method.input, body, inbound, params);
        const { output, header } = await invoke(
          handler,
          r.method,
          toBinary(r.method.input, msg),
          req,
          requestId,
          aborted.signal,
        );
        const answer = fromBinary(r.method.output, output);
        send(
          res,
          200,
          encodeMessage(r.method.output, answer, outbound, registry),
          header.get("x-request-id"),
        );
      } catch (err) {
        fail(res, ConnectError.from(err), outbound, requestId);
      }
    })();
  };
}
