// The limits of server/config.ts: how much one request, connection or principal may ask of the server. config.ts reads
// the raw values (flags win over environment variables); this file parses and checks them.
import { parseDuration, parseSize } from "./config-values.js";
import { MAX_FILTERS_LENGTH } from "./validation/filter-grammar.js";

export interface LimitsConfig {
  /** The largest request message (RESOURCE_EXHAUSTED beyond), on every port and protocol. */
  readonly maxRequestBytes: number;
  /** A list's `limit` above this is lowered to it (the page then carries a token, as a full page does). */
  readonly maxListLimit: number;
  /** The longest `filters` string of a list request (INVALID_ARGUMENT beyond). */
  readonly maxFilterLength: number;
  /** How deeply literals (collections, maps, bindings, types) may nest in a request (INVALID_ARGUMENT beyond). */
  readonly maxLiteralDepth: number;
  /** Concurrent HTTP/2 streams per connection (the SETTINGS value; further streams are refused). */
  readonly maxConcurrentStreams: number;
  /** Calls per second per principal (or peer address without authentication); 0 turns the limit off. */
  readonly rateLimit: number;
  /** Calls a principal may make at once before the rate applies. */
  readonly rateLimitBurst: number;
  /** How long a request may take to arrive once its headers have (a stalled upload is cut off after). */
  readonly requestReadTimeoutMs: number;
  /** A connection without traffic for this long is closed (with calls open, once it fails to answer a ping). */
  readonly connectionIdleMs: number;
}

type Read = (key: keyof LimitsConfig) => { value: string; source: string } | undefined;

function count(
  read: Read,
  key: keyof LimitsConfig,
  dflt: number,
  problems: string[],
  [min, max]: readonly [number, number] = [1, 2 ** 31 - 1],
): number {
  const v = read(key);
  if (v === undefined) return dflt;
  const n = /^\d+$/.test(v.value) ? Number(v.value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    problems.push(`${v.source}: "${v.value}" must be an integer from ${min} to ${max}`);
    return dflt;
  }
  return n;
}

function duration(read: Read, key: keyof LimitsConfig, dflt: number, problems: string[]): number {
  const v = read(key);
  return v === undefined ? dflt : parseDuration(v.value, v.source, problems);
}

export function readLimitSettings(read: Read, problems: string[]): LimitsConfig {
  const size = read("maxRequestBytes");
  const rateLimit = count(read, "rateLimit", 0, problems, [0, 1_000_000]);
  return {
    maxRequestBytes: size === undefined ? 64 * 2 ** 20 : parseSize(size.value, size.source, problems),
    maxListLimit: count(read, "maxListLimit", 1000, problems),
    // The filter parser's own ceiling (validation/filter-grammar.ts) is the most a setting may allow.
    maxFilterLength: count(read, "maxFilterLength", MAX_FILTERS_LENGTH, problems, [1, MAX_FILTERS_LENGTH]),
    maxLiteralDepth: count(read, "maxLiteralDepth", 32, problems, [1, 1000]),
    maxConcurrentStreams: count(read, "maxConcurrentStreams", 1000, problems),
    rateLimit,
    rateLimitBurst: count(read, "rateLimitBurst", Math.max(1, rateLimit * 2), problems),
    requestReadTimeoutMs: duration(read, "requestReadTimeoutMs", 30_000, problems),
    connectionIdleMs: duration(read, "connectionIdleMs", 5 * 60_000, problems),
  };
}
