// Every TypeScript block in README.md and docs/*.md compiles (strict, as the project) and runs to completion
// against a real server, so a snippet that stops working fails the build. Hidden setup and clean-up code sits in
// HTML comments before a block (see test/support/doc-blocks.ts).
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allDocBlocks, docProgram } from "../support/doc-blocks.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const run = promisify(execFile);
const ROOT = path.resolve(".");
const blocks = allDocBlocks(ROOT);
// Inside the repository (for node_modules and the sources), ignored by git and by the project's tsconfig.
const dir = path.join(ROOT, "scratch", `doctest-${process.pid}`);
/** tsx's loader, by URL: the blocks run from a scratch working directory. */
const TSX = pathToFileURL(path.join(ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;
const fileOf = (i: number) => path.join(dir, `block-${i}.ts`);

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "demo", name: "demo" } });
  fs.mkdirSync(dir, { recursive: true });
  const client = path.join(ROOT, "client", "index.js");
  blocks.forEach((b, i) => {
    fs.writeFileSync(fileOf(i), `// ${b.where}\n${docProgram(b, client, t.grpcAddress)}`);
  });
  fs.writeFileSync(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({ extends: "../../tsconfig.json", compilerOptions: { noEmit: true }, include: ["*.ts"] }),
  );
});
afterAll(async () => {
  await t?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the docs' TypeScript", () => {
  it("finds the blocks", () => {
    expect(blocks.map((b) => b.where.split(":")[0])).toEqual(
      expect.arrayContaining(["README.md", "docs/typescript.md"]),
    );
  });

  it("compiles under the project's strict settings", async () => {
    const tsc = path.join(ROOT, "node_modules", ".bin", "tsc");
    const result = await run(tsc, ["-p", path.join(dir, "tsconfig.json")], { cwd: ROOT }).catch(
      (err: { stdout?: string }) => ({ stdout: err.stdout ?? String(err) }),
    );
    // Name the doc line of each error: the first line of each file says where its block is.
    const errors = result.stdout.replace(/scratch\/doctest-\d+\/block-(\d+)\.ts/g, (_, i: string) => {
      return blocks[Number(i)]?.where ?? "?";
    });
    expect(errors).toBe("");
  }, 120_000);

  blocks.forEach((b, i) => {
    it(`runs ${b.where}`, async () => {
      const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-doctest-"));
      try {
        await run(process.execPath, ["--import", TSX, fileOf(i)], {
          cwd,
          timeout: 90_000,
          env: { ...process.env, NODE_OPTIONS: "" },
        }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
          throw new Error(`${b.where} failed:\n${err.stderr || err.message}\n${err.stdout ?? ""}`);
        });
      } finally {
        fs.rmSync(cwd, { recursive: true, force: true });
      }
    }, 120_000);
  });
});
