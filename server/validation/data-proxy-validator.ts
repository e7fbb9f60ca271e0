// DataProxyService request checks with FlyteAdmin's texts (flyteadmin/dataproxy/service.go): the expires_in of upload
// and download URLs, rendered as Go renders durations (`1h0m0s`).
import type { Duration } from "@bufbuild/protobuf/wkt";
import { invalidArgument } from "../errors.js";

const NS_PER_S = 1_000_000_000n;
const MAX_SECONDS = 315_576_000_000n;

/** A duration as Go's time.Duration.String() writes it: `0s`, `1.5s`, `1m30s`, `1h0m0s`, `250ms`, `10µs`, `3ns`. */
export function formatGoDuration(nanos: bigint): string {
  if (nanos === 0n) return "0s";
  const negative = nanos < 0n;
  let u = negative ? -nanos : nanos;
  let text: string;
  if (u < NS_PER_S) {
    if (u < 1_000n) text = `${u}ns`;
    else if (u < 1_000_000n) text = `${decimal(u, 1_000n)}µs`;
    else text = `${decimal(u, 1_000_000n)}ms`;
  } else {
    const hours = u / (3600n * NS_PER_S);
    u %= 3600n * NS_PER_S;
    const minutes = u / (60n * NS_PER_S);
    u %= 60n * NS_PER_S;
    text = `${decimal(u, NS_PER_S)}s`;
    if (hours > 0n) text = `${hours}h${minutes}m${text}`;
    else if (minutes > 0n) text = `${minutes}m${text}`;
  }
  return negative ? `-${text}` : text;
}

/** `value / scale` with the fraction's trailing zeros dropped. */
function decimal(value: bigint, scale: bigint): string {
  const whole = value / scale;
  const fraction = value % scale;
  if (fraction === 0n) return String(whole);
  const digits = String(scale).length - 1;
  return `${whole}.${String(fraction).padStart(digits, "0").replace(/0+$/, "")}`;
}

/** durationpb's IsValid: seconds within ±10,000 years, |nanos| < 1e9, both of one sign. */
function isValidDuration(d: Duration): boolean {
  if (d.seconds < -MAX_SECONDS || d.seconds > MAX_SECONDS) return false;
  if (d.nanos <= -1_000_000_000 || d.nanos >= 1_000_000_000) return false;
  return !((d.seconds > 0n && d.nanos < 0) || (d.seconds < 0n && d.nanos > 0));
}

const durationText = (d: Duration) => `seconds:${d.seconds} nanos:${d.nanos}`;
const toNanos = (d: Duration) => d.seconds * NS_PER_S + BigInt(d.nanos);
const msToNanos = (ms: number) => BigInt(Math.round(ms)) * 1_000_000n;
/** Whole milliseconds, rounded up so a positive expiry never becomes 0. */
const nanosToMs = (ns: bigint) => Number((ns + 999_999n) / 1_000_000n);

/**
 * CreateUploadLocation's expires_in in milliseconds: absent → the maximum; above it → InvalidArgument. (FlyteAdmin does
 * not refuse a negative one for uploads: the URL is born expired.)
 */
export function uploadExpiresInMs(d: Duration | undefined, maxMs: number): number {
  if (d === undefined) return maxMs;
  if (!isValidDuration(d)) throw invalidArgument(`expiresIn [${durationText(d)}] is invalid`);
  const ns = toNanos(d);
  if (ns > msToNanos(maxMs)) {
    throw invalidArgument(
      `expiresIn [${formatGoDuration(ns)}] cannot exceed max allowed expiration [${formatGoDuration(msToNanos(maxMs))}]`,
    );
  }
  return ns < 0n ? 0 : nanosToMs(ns);
}

/**
 * The expires_in of CreateDownloadLocation / CreateDownloadLink in milliseconds, or the problem as FlyteAdmin words it
 * (`expiresIn is invalid. Error: input duration [2h0m0s] cannot exceed max allowed expiration [1h0m0s]`); each rpc
 * wraps the problem in its own prefix.
 */
export function downloadExpiresIn(
  d: Duration | undefined,
  maxMs: number,
): { readonly ms: number } | { readonly problem: string } {
  if (d === undefined) return { ms: maxMs };
  const prefix = "expiresIn is invalid. Error: input duration";
  if (!isValidDuration(d)) return { problem: `${prefix} [${durationText(d)}] is invalid` };
  const ns = toNanos(d);
  if (ns < 0n) return { problem: `${prefix} [${formatGoDuration(ns)}] should not less than 0` };
  if (ns > msToNanos(maxMs)) {
    return {
      problem: `${prefix} [${formatGoDuration(ns)}] cannot exceed max allowed expiration [${formatGoDuration(msToNanos(maxMs))}]`,
    };
  }
  return { ms: nanosToMs(ns) };
}
