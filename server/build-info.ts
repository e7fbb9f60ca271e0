// What GetVersion reports: the package version, and the commit and time this process started from.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

function commit(): string {
  try {
    const cwd = new URL("..", import.meta.url).pathname;
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
