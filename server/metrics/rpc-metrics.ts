// Counts every rpc and times it, by service, method and the status code the client gets.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { PetrelMetrics } from "./petrel-metrics.js";

const codeName = (code: Code | undefined) => (code === undefined ? "OK" : (Code[code] ?? "Unknown"));

export function rpcMetricsInterceptor(metrics: PetrelMetrics): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const labels = { service: req.service.typeName, method: req.method.name };
    const done = (code: Code | undefined) => {
      const l = { ...labels, code: codeName(code) };
      metrics.rpcs.inc(l);
      metrics.rpcSeconds.observe(l, (performance.now() - started) / 1000);
    };
    try {
      const res = await next(req);
      if (!res.stream) {
        done(undefined);
        return res;
      }
      // Streams are counted when they end, with the code they end with.
      const message = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* message;
            done(undefined);
          } catch (err) {
            done(ConnectError.from(err).code);
            throw err;
          }
        })(),
      };
    } catch (err) {
      done(ConnectError.from(err).code);
      throw err;
    }
  };
}
