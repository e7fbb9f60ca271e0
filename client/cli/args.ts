// Command-line parsing for `petrel`: positional words, `--flag value` / `--flag=value`, repeatable flags.
export interface ParsedArgs {
  readonly words: string[];
  readonly flags: Map<string, string[]>;
}

const BOOLEAN_FLAGS = new Set(["--wait", "--all", "--insecure", "--help", "--parallel", "--dry-run"]);

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const words: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (!a.startsWith("--") && !(a.startsWith("-") && a.length === 2)) {
      words.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = (eq >= 0 ? a.slice(0, eq) : a).replace(/^-o$/, "--output");
    let value = eq >= 0 ? a.slice(eq + 1) : undefined;
    if (value === undefined) value = BOOLEAN_FLAGS.has(name) ? "true" : (argv[++i] ?? "");
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return { words, flags };
}

export const flag = (a: ParsedArgs, name: string): string | undefined => a.flags.get(name)?.at(-1);
