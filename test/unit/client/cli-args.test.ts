// The CLI's strict parsing against its command table, --version's package.json lookup (from sources and from a
// compiled tree), and completion scripts generated from the same table.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkArgs, parseArgs, parseDuration, UsageError } from "../../../client/cli/args.js";
import { BOOLEAN_FLAGS, COMMANDS } from "../../../client/cli/commands.js";
import { completionScript } from "../../../client/cli/completion.js";
import { helpFor, packageVersion } from "../../../client/cli/help.js";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-unit-cli-"));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const check =
  (...argv: string[]) =>
  () =>
    checkArgs(parseArgs(argv));

describe("parseArgs and checkArgs", () => {
  it("reads words, repeated flags, -o, --flag=value and negative numbers", () => {
    const a = parseArgs([
      "--project",
      "p",
      "run",
      "task",
      "t",
      "--input",
      "a=1",
      "--input=b=2",
      "--wait",
      "-o",
      "json",
    ]);
    expect(a.words).toEqual(["run", "task", "t"]);
    expect(a.flags.get("--input")).toEqual(["a=1", "b=2"]);
    expect(a.flags.get("--wait")).toEqual(["true"]);
    expect(a.flags.get("--output")).toEqual(["json"]);
    expect(parseArgs(["signal", "set", "s", "e", "-5"]).words).toEqual(["signal", "set", "s", "e", "-5"]);
  });

  it("rejects unknown flags, bad -o values, non-numeric counts, bad durations and missing values", () => {
    expect(check("get", "tasks", "--frob")).toThrow(
      new UsageError("unknown flag --frob for petrel get (see petrel get --help)"),
    );
    expect(check("run", "task", "t", "--limit", "3")).toThrow(/unknown flag --limit for petrel run/);
    expect(check("get", "tasks", "-o", "xml")).toThrow('-o/--output must be table, json or yaml, not "xml"');
    expect(check("watch", "x", "-o", "table")).toThrow('-o/--output must be json, not "table"');
    expect(check("get", "tasks", "--limit", "ten")).toThrow(
      '--limit expects a positive whole number, not "ten"',
    );
    expect(check("worker", "m.ts", "--concurrency", "0")).toThrow(/--concurrency expects a positive/);
    expect(check("signal", "wait", "e", "s", "--timeout", "soon")).toThrow(/--timeout expects a duration/);
    expect(check("get", "tasks", "--limit")).toThrow("--limit needs a value");
    expect(check("--frob")).toThrow("unknown flag --frob for petrel (see petrel help)");
    expect(check("get", "tasks", "-o", "yaml", "--limit", "5", "--all", "--project", "p")).not.toThrow();
    expect(check("--version")).not.toThrow();
  });

  it("reads durations", () => {
    expect(["500ms", "30s", "5m", "1h30m", "5", "m", ""].map(parseDuration)).toEqual([
      500,
      30_000,
      300_000,
      5_400_000,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("knows every boolean flag, so no boolean swallows the next word", () => {
    expect([...BOOLEAN_FLAGS].sort()).toEqual(
      ["--all", "--dry-run", "--follow", "--help", "--insecure", "--parallel", "--wait"].sort(),
    );
  });

  it("has help for every command and refuses an unknown one", () => {
    for (const c of COMMANDS) expect(helpFor(c.name)).toContain(`usage: petrel ${c.name}`);
    expect(() => helpFor("nope")).toThrow(UsageError);
  });
});

describe("packageVersion", () => {
  it("walks up past packages of other names to petrel's package.json, from sources or from dist/", () => {
    const root = path.join(dir, "node_modules", "petrel");
    fs.mkdirSync(path.join(root, "dist", "client", "cli"), { recursive: true });
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "my-app", version: "9.9.9" }));
    fs.writeFileSync(path.join(root, "package.json"), JSON.stringify({ name: "petrel", version: "1.2.3" }));
    fs.writeFileSync(path.join(root, "dist", "package.json"), JSON.stringify({ type: "module" }));
    const module = pathToFileURL(path.join(root, "dist", "client", "cli", "help.js")).href;
    expect(packageVersion(module)).toBe("1.2.3");
    expect(() => packageVersion(pathToFileURL(path.join(dir, "x.js")).href)).toThrow(/petrel's package.json/);
    const ours = JSON.parse(
      fs.readFileSync(path.resolve(import.meta.dirname, "../../../package.json"), "utf8"),
    );
    expect(packageVersion()).toBe(ours.version);
  });
});

describe("completionScript", () => {
  it("bash completes commands, second words, flags and -o choices", () => {
    const file = path.join(dir, "petrel.bash");
    fs.writeFileSync(file, completionScript("bash"));
    const complete = (...words: string[]) => {
      const arr = words.map((w) => `'${w}'`).join(" ");
      const script = `source ${file}; COMP_WORDS=(petrel ${arr}); COMP_CWORD=${words.length}; _petrel; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const r = spawnSync("bash", ["--norc", "-c", script], { encoding: "utf8" });
      expect(r.stderr).toBe("");
      return r.stdout.trim().split("\n").filter(Boolean);
    };
    expect(complete("re")).toEqual(["relaunch", "recover", "register"]);
    expect(complete("--project", "p", "get", "")).toContain("launch-plans");
    expect(complete("get", "tasks", "--l")).toEqual(["--limit"]);
    expect(complete("get", "tasks", "-o", "")).toEqual(["table", "json", "yaml"]);
    expect(complete("watch", "x", "-o", "")).toEqual(["json"]);
    expect(complete("signal", "w")).toEqual(["wait"]);
    expect(complete("help", "comp")).toEqual(["completion"]);
    expect(complete("--ver")).toEqual(["--version"]);
  });

  it("zsh defines _petrel over the same commands and flags", () => {
    const script = completionScript("zsh");
    expect(script.startsWith("#compdef petrel\n")).toBe(true);
    expect(script).toContain("compdef _petrel petrel");
    for (const c of COMMANDS) expect(script).toContain(`'${c.name}:`);
    expect(script).toContain("(get) flags=(--output --filter --limit --all");
    const zsh = spawnSync("zsh", ["-n", "-c", script], { encoding: "utf8" });
    if (zsh.error === undefined) expect(zsh.stderr).toBe("");
    expect(() => completionScript("fish")).toThrow('completion takes bash or zsh, not "fish"');
  });
});
