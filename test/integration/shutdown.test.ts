// Stopping: a keep-alive HTTP/1.1 connection whose call was in flight does not hold shutdown, and `npm start` stops
// with its children (no server, no embedded Postgres left running) on SIGTERM.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { startTestServer } from "../support/test-server.js";

/** Processes whose command line mentions `needle`. */
function processesWith(needle: string): string[] {
  const ps = spawnSync("ps", ["-eo", "pid,args"], { encoding: "utf8" }).stdout;
  return ps.split("\n").filter((l) => l.includes(needle) && !l.includes("ps -eo"));
}

describe("stopping", () => {
  it("closes a keep-alive connection as soon as its call ended, not at the end of the grace", async () => {
    const t = await startTestServer();
    const agent = new http.Agent({ keepAlive: true });
    try {
      // A call in flight when stop begins: a health watch over Connect on HTTP/1.1, which ends once shutdown begins.
      const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.request(
          `${t.httpBaseUrl}/grpc.health.v1.Health/Watch`,
          {
            method: "POST",
            agent,
            headers: { "content-type": "application/connect+proto", "connect-protocol-version": "1" },
          },
          resolve,
        );
        req.on("error", reject);
        req.end(Buffer.alloc(5));
      });
      response.resume();
      const answered = new Promise<number>((resolve) =>
        response.on("end", () => resolve(response.statusCode ?? 0)),
      );
      const started = Date.now();
      await t.server.stop(10_000);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(await answered).toBe(200);
    } finally {
      agent.destroy();
      await t.database.drop();
    }
  });

  it("npm start stops with its children on SIGTERM", { timeout: 90_000 }, async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-npm-start-"));
    const npm = spawn("npm", ["start", "--silent"], {
      env: { ...process.env, PETREL_HOME: home, PETREL_GRPC_PORT: "0", PETREL_HTTP_PORT: "0" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    npm.stderr.on("data", (d: Buffer) => {
      log += d.toString();
    });
    const exited = new Promise<number | null>((r) => npm.once("exit", (code) => r(code)));
    try {
      await eventually(
        async () => log,
        (l) => l.includes("petrel is serving"),
        60_000,
      );
      expect(processesWith(home).length).toBeGreaterThan(0);
      npm.kill("SIGTERM");
      await exited;
      // Nothing that ran with this PETREL_HOME (the server, its Postgres) is left.
      await eventually(
        async () => processesWith(home),
        (left) => left.length === 0,
        15_000,
      );
      expect(log).toContain('"msg":"stopped"');
    } finally {
      if (npm.exitCode === null) npm.kill("SIGKILL");
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
