// Cross-cutting rpc concerns: error translation (the one place AppError becomes a gRPC status), request ids
// and access logging. The request id travels in the request's x-request-id header (set when the client sent none),
// and every line logged here names it.
import { randomUUID } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import { fitGrpcMessage, MAX_ENCODED_MESSAGE } from "./grpc-message.js";

export function toConnectError(
  err: unknown,
  logger: Logger,
  procedure: string,
  requestId?: string,
): ConnectError {
  if (err instanceof AppError) {
    // A database error was mapped to a generic message: the original is for the log only.
    if (err.cause !== undefined) {
      const fields = { procedure, requestId, code: Code[err.code], error: err.cause };
      if (err.code === Code.Internal) logger.error("rpc failed", fields);
      else logger.warn("rpc failed", fields);
    }
    // Flyte cuts long messages (at 32,000 bytes) and drops the details then. Petrel cuts at what fits a trailer; the
    // details (which carry the message again) travel only with a message short enough for both.
    if (err.details.length > 0 && fitGrpcMessage(err.message, MAX_ENCODED_MESSAGE / 3) === err.message)
      return new ConnectError(err.message, err.code, undefined, [...err.details]);
    return new ConnectError(fitGrpcMessage(err.message), err.code);
  }
  if (err instanceof ConnectError) return err;
  logger.error("unexpected error", { procedure, requestId, error: err });
  return new ConnectError("internal error", Code.Internal);
}

const REQUEST_ID = "x-request-id";

const isWriteAfterHangUp = (err: unknown): boolean =>
  err instanceof Error && (err as NodeJS.ErrnoException).code === "ERR_STREAM_DESTROYED";

export function errorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const requestId = req.header.get(REQUEST_ID) ?? undefined;
    try {
      const res = await next(req);
      if (!res.stream) return res;
      const message = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* message;
          } catch (err) {
            // The client went away (a browser leaving a page): nothing is wrong on this side, nothing can be answered.
            if (req.signal.aborted || isWriteAfterHangUp(err)) {
              logger.debug("stream ended by the client", { procedure: req.method.name, requestId });
              throw new ConnectError("the client closed the stream", Code.Canceled);
            }
            throw toConnectError(err, logger, req.method.name, requestId);
          }
        })(),
      };
    } catch (err) {
      throw toConnectError(err, logger, req.method.name, requestId);
    }
  };
}

export function requestLogInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    let requestId = req.header.get(REQUEST_ID);
    if (requestId === null) {
      requestId = randomUUID();
      req.header.set(REQUEST_ID, requestId);
    }
    const started = performance.now();
    try {
      const res = await next(req);
      res.header.set(REQUEST_ID, requestId);
      logger.debug("rpc", {
        method: req.method.name,
        ms: (performance.now() - started).toFixed(1),
        requestId,
      });
      return res;
    } catch (err) {
      const code = err instanceof ConnectError ? Code[err.code] : "Unknown";
      logger.debug("rpc failed", { method: req.method.name, code, requestId });
      throw err;
    }
  };
}
