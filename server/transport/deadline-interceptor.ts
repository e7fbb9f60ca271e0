// Deadlines honoured: a call whose client set one (grpc-timeout, connect-timeout-ms) is answered DEADLINE_EXCEEDED
// when it passes, whether or not the implementation is done, and the implementation's signal is aborted then (Connect
// and the direct path abort it, but neither answers before the implementation returns). A server stream is cut at
// the deadline too. Calls without a deadline pass through untouched (their signal is not even made).
import { ConnectError, type Interceptor } from "@connectrpc/connect";

const hasDeadline = (h: Headers): boolean => h.has("grpc-timeout") || h.has("connect-timeout-ms");

/** Rejects once the signal is aborted, with its reason as a ConnectError (DEADLINE_EXCEEDED at the deadline). */
function whenAborted(signal: AbortSignal): Promise<never> {
  const p = new Promise<never>((_, reject) => {
    const fail = () => reject(ConnectError.from(signal.reason));
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
  p.catch(() => undefined);
  return p;
}

/** The messages of `source` until `stop` rejects; ending early ends `source`. */
function until<T>(source: AsyncIterable<T>, stop: Promise<never>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const it = source[Symbol.asyncIterator]();
      return {
        next: () => Promise.race([it.next(), stop]),
        return: (v?: unknown) => {
          // The source may be suspended in a read that ends only when its signal is noticed: not awaited.
          void Promise.resolve(it.return?.(v)).catch(() => undefined);
          return Promise.resolve({ done: true as const, value: undefined });
        },
        throw: (e?: unknown) => it.throw?.(e) ?? Promise.reject(e),
      };
    },
  };
}

export function deadlineInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (!hasDeadline(req.header)) return next(req);
    const expired = whenAborted(req.signal);
    const res = await Promise.race([next(req), expired]);
    if (!res.stream) return res;
    return { ...res, message: until(res.message, expired) };
  };
}
