// `petrel help [COMMAND]`, `petrel COMMAND --help` and `petrel --version`, written from the command table.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "./args.js";
import { COMMANDS, type CommandSpec, commandNamed, type FlagSpec, GLOBAL_FLAGS } from "./commands.js";

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "usage: petrel [--endpoint HOST:PORT] [--project P] [--domain D] [--profile NAME] <command> [args]",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "`petrel help COMMAND` or `petrel COMMAND --help` for a command's arguments and flags; `petrel --version`.",
  ].join("\n");
}

function flagLines(flags: readonly FlagSpec[]): string[] {
  const left = (f: FlagSpec) =>
    `${f.name === "--output" ? "-o, " : ""}${f.name}${f.value ? ` ${f.value}` : ""}`;
  const width = Math.max(...flags.map((f) => left(f).length));
  return flags.map((f) => `  ${left(f).padEnd(width)}  ${f.help}`);
}

export function commandHelp(c: CommandSpec): string {
  const lines = [
    ...c.usage.map((u, i) => `${i === 0 ? "usage:" : "      "} petrel ${c.name} ${u}`),
    "",
    c.summary,
  ];
  if (c.name === "serve") {
    lines.push(
      "",
      "`petrel serve --help` lists every server flag with its environment variable and default.",
    );
    return lines.join("\n");
  }
  if (c.flags.length > 0) lines.push("", "flags:", ...flagLines(c.flags));
  lines.push("", "global flags:", ...flagLines(GLOBAL_FLAGS));
  return lines.join("\n");
}

/** `petrel help` → the overview; `petrel help COMMAND` → that command; an unknown command is a usage error. */
export function helpFor(name: string | undefined): string {
  if (name === undefined) return usage();
  const c = commandNamed(name);
  if (c === undefined) throw new UsageError(`no command "${name}" (see petrel help)`);
  return commandHelp(c);
}

/**
 * The version in petrel's package.json, found by walking up from this module: it works from the sources, from a
 * compiled dist/ tree and from an installed package alike. A package.json of another name (a workspace, the
 * project that installed petrel) is passed over.
 */
export function packageVersion(from: string = import.meta.url): string {
  let dir = path.dirname(fileURLToPath(from));
  for (;;) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "petrel" && typeof pkg.version === "string") return pkg.version;
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error("cannot find petrel's package.json above the CLI");
    dir = up;
  }
}
