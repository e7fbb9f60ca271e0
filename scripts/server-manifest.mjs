// For the server image: rewrites ./package.json so the server's optional peer dependencies (knex, pg, embedded
// Postgres, the AWS SDK) are dependencies, then the lockfile with the same locked versions (no network needed), so
// `npm ci --omit=dev` installs exactly what `petrel serve` runs on.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
for (const [name, range] of Object.entries(pkg.peerDependencies ?? {})) {
  pkg.dependencies[name] = range;
  delete pkg.devDependencies?.[name];
}
delete pkg.peerDependencies;
delete pkg.peerDependenciesMeta;
writeFileSync("package.json", `${JSON.stringify(pkg, null, 2)}\n`);
execFileSync("npm", ["install", "--package-lock-only", "--prefer-offline", "--no-audit", "--no-fund"], {
  stdio: "inherit",
});
