// Sampling and summarising for the benchmarks that alternate rounds: load windows of closed-loop clients, medians
// of the rounds with their ranges, and target lines that say met / not met.

/** PETREL_BENCH_QUICK=1 shrinks rounds and windows to check the scripts (its numbers mean nothing). */
export const QUICK = process.env.PETREL_BENCH_QUICK === "1";

/** `full` normally, `quick` in a smoke run. */
export const scaled = (full: number, quick: number): number => (QUICK ? quick : full);

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export interface Window {
  readonly p50: number;
  readonly p99: number;
  readonly perSecond: number;
  readonly count: number;
}

/** `clients` closed-loop clients, each running `one` (which returns its latency in ms) `perClient` times. */
export async function concurrently(
  clients: number,
  perClient: number,
  one: () => Promise<number>,
): Promise<Window> {
  const samples: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < perClient; i++) samples.push(await one());
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  samples.sort((a, b) => a - b);
  return {
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    perSecond: samples.length / seconds,
    count: samples.length,
  };
}

/** As many calls of `one` as `clients` closed-loop callers complete in `seconds`; calls per second. */
export async function callsPerSecond(
  clients: number,
  seconds: number,
  one: () => Promise<unknown>,
): Promise<number> {
  let calls = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) {
        await one();
        calls++;
      }
    }),
  );
  return calls / ((performance.now() - started) / 1000);
}

/** A figure over the rounds: its median and range. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function spread(xs: readonly number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/** Each round's value of `f`, summarised. */
export function over<R>(rounds: readonly R[], f: (r: R) => number): Spread {
  return spread(rounds.map(f));
}

export const fmtMs = (n: number): string => `${n.toFixed(2)} ms`;
export const fmtRate = (n: number): string => `${n.toFixed(0)}/s`;

/** `12.34 ms (11.0–15.2)`: the median and, in parentheses, the range over the rounds. */
export function showMs(s: Spread): string {
  return `${fmtMs(s.median)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
}

export function showRate(s: Spread): string {
  return `${fmtRate(s.median)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
}

/** A target line: what was measured against the bound, and **met** / **not met**. */
export function target(text: string, met: boolean): string {
  return `- target: ${text} — ${met ? "**met**" : "**not met**"}`;
}

export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
