// Fails when `npm run generate` would change gen/: generates into a scratch copy and compares.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const scratch = mkdtempSync(path.join(os.tmpdir(), "petrel-gen-"));

function files(dir, base = dir) {
  if (!statSync(dir, { throwIfNoEntry: false })) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p, base) : [path.relative(base, p)];
  });
}

try {
  for (const f of ["buf.yaml", "buf.gen.yaml", "proto"])
    cpSync(path.join(root, f), path.join(scratch, f), { recursive: true });
  const buf = path.join(root, "node_modules", ".bin", "buf");
  execFileSync(buf, ["generate"], {
    cwd: scratch,
    stdio: "inherit",
    env: {
      ...process.env,
      PATH: `${path.join(root, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}`,
    },
  });
  const want = files(path.join(scratch, "gen")).sort();
  const have = files(path.join(root, "gen")).sort();
  const problems = [];
  for (const f of want) {
    if (!have.includes(f)) problems.push(`missing: gen/${f}`);
    else if (
      readFileSync(path.join(scratch, "gen", f), "utf8") !== readFileSync(path.join(root, "gen", f), "utf8")
    ) {
      problems.push(`differs: gen/${f}`);
    }
  }
  for (const f of have) if (!want.includes(f)) problems.push(`stale: gen/${f}`);
  if (problems.length > 0) {
    console.error(`gen/ is out of date with proto/ (run \`npm run generate\`):\n  ${problems.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`gen/ is up to date (${want.length} files)`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
