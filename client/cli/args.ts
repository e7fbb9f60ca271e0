// Command-line parsing for `petrel`: positional words, `--flag value` / `--flag=value`, repeatable flags, and the
// strict check of flags against the command table (a usage mistake is a UsageError: one line, exit code 2).
import { BOOLEAN_FLAGS, type CommandSpec, commandNamed, type FlagSpec, GLOBAL_FLAGS } from "./commands.js";

export interface ParsedArgs {
  readonly words: string[];
  readonly flags: Map<string, string[]>;
  /** Value flags given last with no value after them. */
  readonly missingValue: string[];
}

/** A mistake in the command line: reported in one line with exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

const SHORT: Readonly<Record<string, string>> = { "-o": "--output", "-h": "--help" };

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const words: string[] = [];
  const flags = new Map<string, string[]>();
  const missingValue: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    // Words: anything not starting with `-`, a lone `-`, and negative numbers (`signal set … -5`).
    if (!a.startsWith("-") || a === "-" || /^-\d/.test(a)) {
      words.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const raw = eq >= 0 ? a.slice(0, eq) : a;
    const name = SHORT[raw] ?? raw;
    let value = eq >= 0 ? a.slice(eq + 1) : undefined;
    if (value === undefined && BOOLEAN_FLAGS.has(name)) value = "true";
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) {
        missingValue.push(name);
        continue;
      }
      value = next;
      i++;
    }
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return { words, flags, missingValue };
}

export const flag = (a: ParsedArgs, name: string): string | undefined => a.flags.get(name)?.at(-1);

const DURATION_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `5m`, `1h30m` in milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * (DURATION_MS[p[2] ?? ""] ?? 0), 0);
}

function checkValue(f: FlagSpec, value: string, shown: string): void {
  if (f.choices !== undefined && !f.choices.includes(value))
    throw new UsageError(`${shown} must be ${alternatives(f.choices)}, not "${value}"`);
  if (f.kind === "count" && !/^[1-9]\d*$/.test(value))
    throw new UsageError(`${shown} expects a positive whole number, not "${value}"`);
  if (f.kind === "duration" && parseDuration(value) === undefined)
    throw new UsageError(`${shown} expects a duration such as 30s, 5m or 1h, not "${value}"`);
}

const alternatives = (xs: readonly string[]) =>
  xs.length === 1 ? (xs[0] ?? "") : `${xs.slice(0, -1).join(", ")} or ${xs.at(-1)}`;

/**
 * Rejects flags the command does not take, flags missing their value, and values outside a flag's choices or kind.
 * Without a known command only the global flags (and `--version`) are allowed.
 */
export function checkArgs(a: ParsedArgs, command: CommandSpec | undefined = commandNamed(a.words[0])): void {
  const known = new Map<string, FlagSpec>();
  for (const f of [...GLOBAL_FLAGS, ...(command?.flags ?? [])]) known.set(f.name, f);
  const where = command === undefined ? "petrel" : `petrel ${command.name}`;
  const help = command === undefined ? "petrel help" : `petrel ${command.name} --help`;
  for (const name of a.missingValue) {
    if (command === undefined && name === "--version") continue;
    if (!known.has(name)) throw new UsageError(`unknown flag ${name} for ${where} (see ${help})`);
    throw new UsageError(`${name} needs a value`);
  }
  for (const [name, values] of a.flags) {
    const f = known.get(name);
    if (f === undefined) throw new UsageError(`unknown flag ${name} for ${where} (see ${help})`);
    const shown = name === "--output" ? "-o/--output" : name;
    for (const v of values) checkValue(f, v, shown);
  }
}
