// The stderr logger's batches: lines reach stderr shortly after they are logged while the process runs, and every
// waiting line is written when the process ends (process.exit, an uncaught exception, the end of the event loop).
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Runs `body` in a child (with `log` = an info logger on stderr); resolves with its stderr lines and exit code. */
function child(body: string, onLine?: (line: string, kill: () => void) => void) {
  const script = `import { createLogger } from "./server/logger.ts";\nconst log = createLogger("info");\n${body}`;
  const p = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: root });
  let err = "";
  p.stderr.on("data", (c: Buffer) => {
    const before = err.split("\n").length;
    err += c.toString();
    const lines = err.split("\n");
    for (const l of lines.slice(before - 1, -1)) onLine?.(l, () => p.kill("SIGTERM"));
  });
  return new Promise<{ lines: string[]; code: number | null }>((resolve) =>
    p.on("close", (code) => resolve({ lines: err.split("\n").filter((l) => l.startsWith("{")), code })),
  );
}

const msgs = (lines: string[]) => lines.map((l) => (JSON.parse(l) as { msg: string }).msg);

describe("stderr log lines", () => {
  it("are written in order when the process exits, by process.exit or at the end of its work (more than a pipe holds)", async () => {
    const exited = await child(`for (let i = 0; i < 20000; i++) log.info("line " + i);\nprocess.exit(3);`);
    expect(exited.code).toBe(3);
    expect(msgs(exited.lines)).toEqual(Array.from({ length: 20000 }, (_, i) => `line ${i}`));
    const ended = await child(`log.info("first");\nlog.info("last");`);
    expect(ended.code).toBe(0);
    expect(msgs(ended.lines)).toEqual(["first", "last"]);
  });

  it("are written when an uncaught exception ends the process", async () => {
    const r = await child(
      `log.error("before the throw");\nsetTimeout(() => { throw new Error("boom"); }, 5);`,
    );
    expect(r.code).toBe(1);
    expect(msgs(r.lines)).toEqual(["before the throw"]);
  });

  it("reach stderr while the process runs, without waiting for more lines", async () => {
    let seenAt = 0;
    const start = Date.now();
    const r = await child(`log.info("alone");\nsetInterval(() => {}, 1000);`, (line, kill) => {
      if (line.includes('"alone"')) {
        seenAt = Date.now() - start;
        kill();
      }
    });
    expect(msgs(r.lines)).toEqual(["alone"]);
    expect(seenAt).toBeGreaterThan(0);
  });
});
