// The console's build when it is missing or older than its sources (console/, and the generated clients it imports).
// `npm start` runs this file first, for dist/console: a failed build is reported and the server starts anyway (its
// /console page then says the console is not built). The browser tests build a copy of their own with it. An
// installed package ships dist/console built and has no sources: nothing to do.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = path.resolve(import.meta.dirname, "..");
const SOURCES = ["console", "gen/flyteidl", "gen/petrel"].map((d) => path.join(ROOT, d));

/** The newest modification time of the files under `dir` (0 when there are none). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      latest = Math.max(latest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** Whether `outDir` lacks a build at least as new as the console's sources (false without sources). */
export function consoleStale(outDir: string): boolean {
  if (!fs.existsSync(SOURCES[0] as string)) return false;
  const index = path.join(outDir, "index.html");
  const built = fs.existsSync(index) ? fs.statSync(index).mtimeMs : -1;
  return built < Math.max(...SOURCES.filter((d) => fs.existsSync(d)).map(newest));
}

/** Builds the console into `outDir` (console/vite.config.ts, its output directory replaced). */
export async function buildConsole(outDir: string, logLevel: "warn" | "error" = "warn"): Promise<void> {
  const { build } = await import("vite");
  await build({
    configFile: path.join(ROOT, "console", "vite.config.ts"),
    build: { outDir, emptyOutDir: true },
    logLevel,
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outDir = path.join(ROOT, "dist", "console");
  if (consoleStale(outDir)) {
    process.stderr.write("building the console (dist/console)…\n");
    try {
      await buildConsole(outDir);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`the console could not be built; starting without it: ${message}\n`);
    }
  }
}
