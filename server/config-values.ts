// Parsers for configuration values: each reports a problem (with the flag or variable it came from) and returns a
// placeholder, so every problem in a configuration is reported at once.
import type { DomainConfig } from "./config.js";

const DOMAIN_ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function parsePort(raw: string, source: string, problems: string[]): number {
  const port = /^\d+$/.test(raw) ? Number.parseInt(raw, 10) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`${source}: "${raw}" is not a port (0-65535; 0 picks a free port)`);
    return 0;
  }
  return port;
}

export function parseDomains(raw: string, source: string, problems: string[]): DomainConfig[] {
  const ids = raw
    .split(",")
    .map((d) => d.trim())
    .filter((d) => d !== "");
  if (ids.length === 0) problems.push(`${source}: at least one domain is required`);
  for (const id of ids) {
    if (!DOMAIN_ID.test(id)) problems.push(`${source}: "${id}" is not a valid domain id`);
  }
  if (new Set(ids).size !== ids.length) problems.push(`${source}: domains must be unique`);
  return ids.map((id) => ({ id, name: id }));
}

export function oneOf<T extends string>(
  raw: string,
  allowed: readonly T[],
  source: string,
  problems: string[],
): T {
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  problems.push(`${source}: "${raw}" must be one of ${allowed.join(", ")}`);
  return allowed[0] as T;
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};
const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `1073741824`, `512Mi`, `5Gi` → bytes (at least 1). */
export function parseSize(raw: string, source: string, problems: string[]): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(raw);
  const bytes = m === null ? Number.NaN : Number(m[1]) * (SIZE_UNITS[m[2] ?? ""] ?? Number.NaN);
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    problems.push(`${source}: "${raw}" is not a size (bytes, or a number with Ki, Mi, Gi or Ti)`);
    return 1;
  }
  return bytes;
}

/** A Go-style duration (`1h`, `30m`, `1h30m`, `90s`, `500ms`) → milliseconds (at least 1). */
export function parseDuration(raw: string, source: string, problems: string[]): number {
  const parts = [...raw.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * (DURATION_UNITS[p[2] ?? ""] ?? 0), 0);
  if (parts.map((p) => p[0]).join("") !== raw || !(ms >= 1)) {
    problems.push(`${source}: "${raw}" is not a duration (e.g. 1h, 30m, 90s)`);
    return 1;
  }
  return Math.round(ms);
}

/**
 * `NAME=value,OTHER=value` → an environment map. A comma ends a value only where a new `NAME=` follows, so values
 * may themselves contain commas (`PATHS=a,b,LEVEL=1` → PATHS="a,b", LEVEL="1").
 */
export function parseEnvList(raw: string, source: string, problems: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of raw.split(/,(?=[A-Za-z_][A-Za-z0-9_]*=)/)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(entry.trim());
    if (m === null) {
      problems.push(`${source}: "${entry}" is not NAME=value`);
      continue;
    }
    env[m[1] as string] = m[2] as string;
  }
  return env;
}

/** The Docker daemon's address: `unix:///path` or `tcp://host:port`. */
export function readDockerHost(v: { value: string; source: string } | undefined, problems: string[]): string {
  if (v === undefined) return "unix:///var/run/docker.sock";
  if (!/^(unix:\/\/\/.+|tcp:\/\/[^/]+)$/.test(v.value))
    problems.push(`${v.source}: "${v.value}" must be unix:///path/to/docker.sock or tcp://host:port`);
  return v.value;
}
