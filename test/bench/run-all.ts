// `npm run bench`: every benchmark script, one after another (each writes its own section of BENCHMARKS.md), then
// the file's header (machine, Node, Postgres and its settings, the date, each script's duration) and a section that
// gathers the target lines of this run. `npm run bench -- --soak` adds the 5-minute soak. PETREL_BENCH_QUICK=1 runs
// shrunken versions to check the scripts and writes a scratch copy in the temp directory instead.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BENCHMARKS_FILE } from "./bench-support.js";
import { describeMachine, loadAverage } from "./machine.js";
import { QUICK } from "./stats.js";
import { gatherTargets } from "./target-lines.js";

interface Script {
  readonly file: string;
  /** Settings that shrink a script without a quick mode of its own. */
  readonly quickEnv?: Record<string, string>;
}

const SOAK = process.argv.includes("--soak");
const SCRIPTS: readonly Script[] = [
  { file: "list-tasks.bench.ts" },
  { file: "engine.bench.ts" },
  { file: "process-tasks.bench.ts" },
  { file: "read-path.bench.ts" },
  { file: "control-flow.bench.ts" },
  {
    file: "big-workflows.bench.ts",
    quickEnv: { PETREL_BENCH_BIG_SIZE: "300", PETREL_BENCH_BIG_ROUNDS: "1" },
  },
  { file: "blob-input.bench.ts" },
  { file: "data-proxy.bench.ts", quickEnv: { PETREL_BENCH_ROUNDS: "1" } },
  { file: "notifications.bench.ts" },
  { file: "retention.bench.ts" },
  { file: "console.bench.ts" },
  ...(SOAK ? [{ file: "soak.bench.ts", quickEnv: { SOAK_SECONDS: "20" } }] : []),
].filter((s) => fs.existsSync(path.join(import.meta.dirname, s.file)));

function runScript(s: Script): Promise<number | null> {
  const env = { ...process.env, ...(QUICK ? s.quickEnv : {}) };
  const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, s.file)], {
    env,
    stdio: "inherit",
  });
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;

if (QUICK) fs.rmSync(BENCHMARKS_FILE, { force: true });
const machine = await describeMachine();
const startLoad = loadAverage();
const started = Date.now();
const results: { file: string; ms: number; code: number | null }[] = [];
for (const s of SCRIPTS) {
  console.log(`\n=== ${s.file} (load average ${loadAverage()}) ===`);
  const t = Date.now();
  const code = await runScript(s);
  results.push({ file: s.file, ms: Date.now() - t, code });
}
const total = Date.now() - started;

const table = results
  .map(
    (r) =>
      `| \`${r.file}\` | ${minutes(r.ms)} | ${r.code === 0 ? "ok" : `failed (exit ${r.code}); its section is from an earlier run`} |`,
  )
  .join("\n");
const header = `# Benchmarks

Written by \`npm run bench\` (\`test/bench/run-all.ts\`${SOAK ? ", with --soak" : ""}${QUICK ? ", quick smoke run: the numbers mean nothing" : ""}) on
${new Date(started).toISOString().slice(0, 16).replace("T", " ")} UTC; the whole run took **${minutes(total)}**. Load average
(1 / 5 / 15 min) at the start ${startLoad}, at the end ${loadAverage()}. Each section below is written by the
script named in it; where a section alternates rounds with a baseline, its figures are medians of the rounds with
their ranges, and each target line says met / not met from this run. Scratch directories (each script's Postgres
data directory and Petrel home, where the blob store writes) are made under \`${os.tmpdir()}\` (TMPDIR).

${machine}

| script | duration | result |
|---|---|---|
${table}
`;
const current = fs.existsSync(BENCHMARKS_FILE) ? fs.readFileSync(BENCHMARKS_FILE, "utf8") : "";
const firstSection = current.indexOf("\n## ");
fs.writeFileSync(BENCHMARKS_FILE, `${header}${firstSection < 0 ? "" : current.slice(firstSection)}`);
gatherTargets();
console.log(`\nwrote ${BENCHMARKS_FILE} in ${minutes(total)}`);
if (results.some((r) => r.code !== 0)) process.exitCode = 1;
