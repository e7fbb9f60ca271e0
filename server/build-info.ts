// What GetVersion reports: the package version, and the commit and time this process started from.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Running the sources of a checkout (else the built package, from dist/server/). */
const FROM_SOURCE = existsSync(new URL("../package.json", import.meta.url));
const ROOT = new URL(FROM_SOURCE ? ".." : "../..", import.meta.url);

/** The package's directory (the checkout, or the installed package): the built console is under its dist/. */
export const PACKAGE_ROOT = fileURLToPath(ROOT);

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("package.json", ROOT), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

function commit(): string {
  if (!FROM_SOURCE) return "unknown"; // an installed package: the enclosing repository's commit is not ours
  try {
    const cwd = ROOT.pathname;
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return "unknown";
  }
}

export const BUILD_INFO = Object.freeze({
  version: packageVersion(),
  build: commit(),
  buildTime: new Date().toISOString(),
});
