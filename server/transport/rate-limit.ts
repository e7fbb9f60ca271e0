// The per-principal rate limit: a token bucket per caller (the authenticated principal, else the peer address), of
// `burst` calls refilled at `perSecond`. A call beyond it is RESOURCE_EXHAUSTED with a retry hint: the time until a
// call is allowed again, in the message and as `grpc-retry-pushback-ms` (which gRPC clients' retry policies honour)
// and `retry-after` (seconds) metadata. Health checks and reflection are never limited (probes must not fail).
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { PRINCIPAL } from "../auth/principal.js";
import { PEER } from "./peer.js";

export interface RateLimitOptions {
  readonly perSecond: number;
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

const UNLIMITED_SERVICES: ReadonlySet<string> = new Set([
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

/** Buckets kept before full (idle) ones are dropped. */
const SWEEP_AT = 10_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly opts: RateLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one call from `key`'s bucket: 0 when allowed, else the milliseconds until one would be. */
  take(key: string): number {
    const now = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= SWEEP_AT) this.sweep(now);
      b = { tokens: this.opts.burst, at: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.opts.burst, b.tokens + ((now - b.at) / 1000) * this.opts.perSecond);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - b.tokens) / this.opts.perSecond) * 1000));
  }

  private sweep(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.opts.perSecond >= this.opts.burst) this.buckets.delete(key);
    }
  }
}

/** Runs after authentication, which puts the principal into the context values. */
export function rateLimitInterceptor(limiter: RateLimiter): Interceptor {
  return (next) => (req) => {
    if (UNLIMITED_SERVICES.has(req.service.typeName)) return next(req);
    const principal = req.contextValues.get(PRINCIPAL)?.name;
    const caller = principal === undefined ? `peer ${req.contextValues.get(PEER)}` : `principal ${principal}`;
    const waitMs = limiter.take(caller);
    if (waitMs === 0) return next(req);
    const metadata = new Headers({
      "grpc-retry-pushback-ms": String(waitMs),
      "retry-after": String(Math.ceil(waitMs / 1000)),
    });
    return Promise.reject(
      new ConnectError(
        `rate limit exceeded for ${caller}: retry in ${waitMs} ms`,
        Code.ResourceExhausted,
        metadata,
      ),
    );
  };
}
