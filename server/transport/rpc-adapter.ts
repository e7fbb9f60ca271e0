// The Node request handler for every rpc: Connect's router (gRPC, gRPC-Web and Connect, as connectNodeAdapter
// sets it up), with plain gRPC unary and server-streaming calls over HTTP/2 served directly (grpc-direct.ts).
import type http from "node:http";
import type http2 from "node:http2";
import type { DescService } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ConnectRouterOptions,
  createConnectRouter,
  createServiceImplSpec,
  type ServiceImpl,
} from "@connectrpc/connect";
import {
  createMethodUrl,
  type UniversalHandler,
  type UniversalHandlerOptions,
  validateUniversalHandlerOptions,
} from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { Logger } from "../logger.js";
import { answerRequestFaults } from "./connect-faults.js";
import { isPlainGrpc } from "./grpc-call.js";
import { type DirectMethod, directMethod, readMessage, serveDirect } from "./grpc-direct.js";
import { answerPlain, failRequest } from "./http-failure.js";
import { peerValues } from "./peer.js";

export interface RpcAdapterOptions extends ConnectRouterOptions {
  readonly routes: (router: ConnectRouter) => void;
  readonly logger: Logger;
}

export type NodeHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** The request handler, and a way to wait for the rpc implementations still running (a cancelled call's too). */
export interface RpcAdapter extends NodeHandler {
  running(): Promise<void>;
  /** The Connect handler of an rpc by its path (`/pkg.Service/Method`): the REST gateway calls rpcs through it. */
  handler(requestPath: string): UniversalHandler | undefined;
}

/** Registers routes with Connect's router, noting the methods of whole services that the direct path serves. */
function collectRoutes(
  options: RpcAdapterOptions,
  resolved: UniversalHandlerOptions,
): { handlers: readonly UniversalHandler[]; direct: Map<string, DirectMethod> } {
  const router = createConnectRouter(options);
  const direct = new Map<string, DirectMethod>();
  const recorder: ConnectRouter = {
    handlers: router.handlers,
    service<T extends DescService>(
      service: T,
      impl: Partial<ServiceImpl<T>>,
      opts?: Partial<UniversalHandlerOptions>,
    ) {
      router.service(service, impl, opts);
      // Services with options of their own stay on Connect's path.
      if (opts !== undefined || options.grpc === false) return this;
      for (const spec of Object.values(createServiceImplSpec(service, impl).methods)) {
        const m = directMethod(spec, resolved);
        if (m !== undefined) direct.set(createMethodUrl("/", spec.method), m);
      }
      return this;
    },
    rpc(method, impl, opts) {
      router.rpc(method, impl, opts);
      return this;
    },
  };
  options.routes(recorder);
  return { handlers: router.handlers, direct };
}

const isHttp2 = (req: http.IncomingMessage | http2.Http2ServerRequest): req is http2.Http2ServerRequest =>
  "stream" in req;

async function* replay(read: readonly Uint8Array[], rest: AsyncIterable<Uint8Array> | undefined) {
  yield* read;
  if (rest !== undefined) yield* rest;
}

/**
 * gRPC and gRPC-web responses are compressed only when, and as, their request was — what grpc-go (FlyteAdmin) and
 * grpc-js servers do by default: compressing every large answer a client merely accepts compressed costs the server
 * more CPU than it saves on a local network. Without a Grpc-Accept-Encoding header Connect answers in the request's
 * encoding (the Connect protocol's own Accept-Encoding negotiation is unchanged).
 */
function answersAsRequested(header: Headers): void {
  if ((header.get("content-type") ?? "").startsWith("application/grpc"))
    header.delete("grpc-accept-encoding");
}

/** Like connectNodeAdapter (same defaults, 404 for unknown paths), plus the direct path for plain gRPC calls. */
export function createRpcAdapter(options: RpcAdapterOptions): RpcAdapter {
  const withDefaults: RpcAdapterOptions = {
    ...options,
    acceptCompression: options.acceptCompression ?? [compressionGzip, compressionBrotli],
  };
  const resolved = validateUniversalHandlerOptions(withDefaults);
  const { handlers, direct } = collectRoutes(withDefaults, resolved);
  const paths = new Map(handlers.map((h) => [h.requestPath, h]));
  const callOptions = {
    interceptors: resolved.interceptors,
    acceptCompression: resolved.acceptCompression,
    compressMinBytes: resolved.compressMinBytes,
    maxTimeoutMs: resolved.maxTimeoutMs,
  };

  // A call's stream may close (the client cancelled) while its implementation still runs; shutting down waits for it.
  const inflight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  const { logger } = options;
  const handlerFailed = (rpc: string, service: string, reason: unknown) =>
    logger.error("rpc handler failed", { rpc: `${service}/${rpc}`, error: reason });

  const viaConnect = (
    handler: UniversalHandler,
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
    body?: AsyncIterable<Uint8Array>,
  ) => {
    let uReq: ReturnType<typeof universalRequestFromNodeRequest>;
    try {
      uReq = universalRequestFromNodeRequest(req, res, undefined, peerValues(req.socket));
    } catch {
      // Connect needs the request's URL: no usable Host / :authority.
      answerPlain(res, 400, "bad request: missing or invalid authority\n");
      return;
    }
    if (!isHttp2(req)) {
      // Connect waits for the response's "end" event, which an HTTP/1.1 ServerResponse never emits: without this
      // every call over HTTP/1.1 would stay pending for ever (held in memory, and shutdown would wait out its grace).
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        res.emit("end");
      };
      res.once("finish", end);
      res.once("close", end);
    }
    answersAsRequested(uReq.header);
    const input = handler.method.input.typeName;
    track(
      handler(body === undefined ? uReq : { ...uReq, body })
        .then((uRes) => answerRequestFaults(uRes, input).catch(() => uRes))
        .then((uRes) => universalResponseToNodeResponse(uRes, res))
        .catch((reason: unknown) => {
          if (ConnectError.from(reason).code === Code.Aborted) return;
          handlerFailed(handler.method.name, handler.service.typeName, reason);
        }),
    );
  };

  const route: NodeHandler = (req, res) => {
    const url = req.url ?? "";
    const m = isHttp2(req) ? direct.get(url) : undefined;
    const viaConnectToo = paths.get(url);
    if (
      m !== undefined &&
      viaConnectToo !== undefined &&
      isHttp2(req) &&
      isPlainGrpc(req, resolved.maxTimeoutMs)
    ) {
      const h2res = res as http2.Http2ServerResponse;
      readMessage(
        req,
        resolved.readMaxBytes,
        (message) =>
          track(
            serveDirect(m, req, h2res, message, callOptions).catch((reason: unknown) =>
              handlerFailed(m.spec.method.name, m.spec.method.parent.typeName, reason),
            ),
          ),
        (read, ended) => {
          // Called from the request's stream events: what it throws must not escape them.
          try {
            viaConnect(viaConnectToo, req, res, replay(read, ended ? undefined : req));
          } catch (err) {
            failRequest(req, res, err, logger);
          }
        },
      );
      return;
    }
    const handler = paths.get(url.split("?", 2)[0] ?? "");
    if (handler === undefined) {
      (res as http.ServerResponse).writeHead(404);
      res.end();
      return;
    }
    viaConnect(handler, req, res);
  };
  const adapter: NodeHandler = (req, res) => {
    try {
      route(req, res);
    } catch (err) {
      failRequest(req, res, err, logger);
    }
  };
  return Object.assign(adapter, {
    async running() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
    handler: (requestPath: string) => paths.get(requestPath),
  });
}
