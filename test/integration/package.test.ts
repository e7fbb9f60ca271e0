// The npm package as a user gets it: `npm run build`, `npm pack`, and the tarball installed into a scratch project,
// offline, with none of the server's dependencies. There, plain `node` runs a workflow through `petrel/client`
// against a real server, `tsc --strict` (skipLibCheck off, only @types/node) type-checks a file over the shipped
// declarations, and the `petrel` bin runs the compiled CLI.
//
// The scratch project gets a lockfile cut from ours (the closure of petrel's runtime dependencies and of
// @types/node, at our locked versions), so `npm ci --offline` finds every tarball in the cache our own `npm ci`
// filled: installing by version range would need registry metadata that `npm ci` never caches.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "../..");
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson;
const TSC = path.join(ROOT, "node_modules/.bin/tsc");

interface PackageJson {
  readonly version: string;
  readonly dependencies: Record<string, string>;
  readonly peerDependencies: Record<string, string>;
  readonly [key: string]: unknown;
}

interface LockEntry {
  readonly version?: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly [key: string]: unknown;
}

/** Our environment minus a test loader and what `npm test` says about itself (npm's settings stay: the cache). */
function childEnv(): NodeJS.ProcessEnv {
  const ours = (k: string) => k === "NODE_OPTIONS" || (k.startsWith("npm_") && !k.startsWith("npm_config_"));
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !ours(k)));
}

async function sh(cmd: string, args: readonly string[], cwd: string) {
  return run(cmd, args, { cwd, env: childEnv(), maxBuffer: 64 * 1024 * 1024 });
}

/** The lock entries (by path) that `deps` need, as `npm ci` laid them out for us, without our dev flags. */
function lockClosure(entries: Record<string, LockEntry>, deps: readonly string[]): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const find = (from: string, name: string): string | undefined => {
    for (let base = from; ; ) {
      const p = `${base === "" ? "" : `${base}/`}node_modules/${name}`;
      if (entries[p] !== undefined) return p;
      if (base === "") return undefined;
      const i = base.lastIndexOf("/node_modules/");
      base = i < 0 ? "" : base.slice(0, i);
    }
  };
  const visit = (from: string, names: readonly string[], optional: boolean) => {
    for (const name of names) {
      const p = find(from, name);
      if (p === undefined) {
        if (optional) continue;
        throw new Error(`package-lock.json has no ${name} for ${from || "the root"}`);
      }
      if (out[p] !== undefined) continue;
      const { dev: _d, devOptional: _o, peer: _p, ...entry } = entries[p] as LockEntry;
      out[p] = entry;
      visit(p, Object.keys(entry.dependencies ?? {}), false);
      visit(p, Object.keys(entry.optionalDependencies ?? {}), true);
      visit(p, Object.keys(entry.peerDependencies ?? {}), true);
    }
  };
  visit("", deps, false);
  return out;
}

/** A scratch npm project depending on the tarball and @types/node, with a lockfile cut from ours. */
function writeScratchProject(dir: string, tarball: string) {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const typesNode = lock.packages["node_modules/@types/node"]?.version;
  if (typesNode === undefined) throw new Error("package-lock.json has no @types/node");
  const resolved = `file:${path.relative(dir, tarball)}`;
  const dependencies = { "@types/node": typesNode, petrel: resolved };
  const { version, bin, engines, peerDependencies, peerDependenciesMeta } = PKG;
  const packages = {
    "": { name: "petrel-package-test", dependencies },
    "node_modules/petrel": {
      version,
      resolved,
      dependencies: PKG.dependencies,
      peerDependencies,
      peerDependenciesMeta,
      bin,
      engines,
    },
    ...lockClosure(lock.packages, [...Object.keys(PKG.dependencies), "@types/node"]),
  };
  const manifest = { name: "petrel-package-test", private: true, type: "module", dependencies };
  fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const lockfile = { name: manifest.name, lockfileVersion: 3, requires: true, packages };
  fs.writeFileSync(path.join(dir, "package-lock.json"), `${JSON.stringify(lockfile, null, 2)}\n`);
}

// Plain node, the published entry point: a DSL workflow whose TS tasks this script serves, and what
// `inProcess()` says without the server's dependencies.
const RUN_MJS = `
import { FriendlyRemote, t, task, workflow } from "petrel/client";

const greet = task({ name: "greet", inputs: { who: t.string }, outputs: { text: t.string } }, ({ who }) => ({
  text: "hello, " + who,
}));
const hello = workflow({ name: "hello", inputs: { who: t.string }, outputs: { text: t.string } }, ({ who }) => ({
  text: greet({ who }).text,
}));

const remote = FriendlyRemote.forEndpoint(process.argv[2], { insecure: true, project: "pkg", domain: "development" });
const exe = await remote.execute(hello, { who: "package" }, { wait: true });
const outputs = await exe.outputs();
await remote.close();
const inProcess = await FriendlyRemote.inProcess({ project: "p", domain: "d" }).then(
  () => "started",
  (err) => err.message,
);
const resolves = (name) => { try { import.meta.resolve(name); return true; } catch { return false; } };
console.log(JSON.stringify({ phase: Number(exe.phase), outputs, inProcess, knex: resolves("knex"), pg: resolves("pg") }));
`;

// A module for `petrel register`: the DSL from the package, loaded by the compiled CLI.
const MODULE_MJS = `
import { t, task, workflow } from "petrel/client";
export const upper = task({ name: "upper", inputs: { s: t.string }, outputs: { s: t.string } }, ({ s }) => ({
  s: s.toUpperCase(),
}));
export const shout = workflow({ name: "shout", inputs: { s: t.string }, outputs: { s: t.string } }, ({ s }) => ({
  s: upper({ s }).s,
}));
`;

// The shipped declarations under a user's strict settings (only @types/node installed).
const CHECK_TS = `
import {
  EntityAlreadyExistsError,
  EntityNotFoundError,
  FriendlyRemote,
  SynchronousClient,
  t,
  task,
  workflow,
} from "petrel/client";

const add = task({ name: "add", inputs: { a: t.int, b: t.int }, outputs: { sum: t.int } }, ({ a, b }) => ({ sum: a + b }));
const square = task({ name: "square", inputs: { x: t.int }, outputs: { y: t.int } }, ({ x }) => ({ y: x * x }));
const pipeline = workflow({ name: "pipeline", inputs: { x: t.int }, outputs: { y: t.int } }, ({ x }) => {
  const s = add({ a: x, b: 1 });
  return { y: square({ x: s.sum }).y };
});

export async function main(): Promise<void> {
  const client = SynchronousClient.connect({ endpoint: "localhost:8089", insecure: true });
  await client
    .registerProject({ project: { id: "demo", name: "demo" } })
    .catch((e: unknown) => (e instanceof EntityAlreadyExistsError ? undefined : Promise.reject(e)));
  for await (const task of client.listTasksAll({ project: "demo", domain: "development" })) {
    console.log(task.id?.name, task.id?.version);
  }
  const remote = FriendlyRemote.forEndpoint("localhost:8089", { insecure: true, project: "demo", domain: "development" });
  const exe = await remote.execute(pipeline, { x: 4 });
  await exe.wait({ timeoutMs: 60_000 });
  const outputs: Record<string, unknown> = await exe.outputs();
  console.log(exe.isDone, outputs);
  await remote.fetchWorkflow("pipeline").catch((e: unknown) => {
    if (!(e instanceof EntityNotFoundError)) throw e;
  });
  await remote.close();
}
`;

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    skipLibCheck: false,
    module: "NodeNext",
    moduleResolution: "NodeNext",
    target: "ES2022",
    types: ["node"],
    noEmit: true,
  },
  files: ["check.ts"],
};

let tmp: string;
let app: string;
let packed: { readonly filename: string; readonly files: readonly { readonly path: string }[] };
let server: TestServer;

/** Builds, packs and installs the tarball into the scratch project. */
async function packAndInstall() {
  await sh("npm", ["run", "build"], ROOT);
  const { stdout } = await sh("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], ROOT);
  packed = (JSON.parse(stdout) as (typeof packed)[])[0] as typeof packed;
  writeScratchProject(app, path.join(tmp, packed.filename));
  const ci = ["ci", "--ignore-scripts", "--no-audit", "--no-fund"];
  // Offline from the cache our own `npm ci` filled; should a tarball be missing there, it may be fetched.
  await sh("npm", [...ci, "--offline"], app).catch(() => sh("npm", [...ci, "--prefer-offline"], app));
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-package-"));
  app = path.join(tmp, "app");
  fs.mkdirSync(app);
  [, server] = await Promise.all([packAndInstall(), startTestServer()]);
  await server.admin.registerProject({ project: { id: "pkg", name: "pkg" } });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("the npm package", () => {
  it("ships compiled JavaScript, declarations, source maps and the built console, and nothing else", () => {
    const files = packed.files.map((f) => f.path);
    const stray = files.filter(
      (f) =>
        !/^dist\/(client|server|gen|common)\/.*\.(js|js\.map|d\.ts)$/.test(f) &&
        !/^dist\/console\//.test(f) &&
        !["bin/petrel.js", "package.json", "README.md", "CHANGELOG.md"].includes(f),
    );
    expect(stray).toEqual([]);
    for (const f of ["dist/client/index.js", "dist/client/index.d.ts", "dist/client/index.js.map"])
      expect(files).toContain(f);
    expect(files).toContain("dist/server/compiler/compile-worker.js");
    expect(files).toContain("dist/console/index.html");
    expect(files.some((f) => /^dist\/console\/assets\/[^/]+\.js$/.test(f))).toBe(true);
    expect(files.some((f) => /^dist\/console\/assets\/[^/]+\.css$/.test(f))).toBe(true);
    expect(PKG.private).toBeUndefined();
  });

  it("serves the console from its own dist/console when run from the built package", async () => {
    const built = (await import(path.join(ROOT, "dist/server/transport/console-route.js"))) as {
      CONSOLE_DIR: string;
    };
    expect(built.CONSOLE_DIR).toBe(path.join(ROOT, "dist", "console"));
    expect(fs.existsSync(path.join(app, "node_modules/petrel/dist/console/index.html"))).toBe(true);
  });

  it("installs without the server's dependencies", () => {
    for (const name of Object.keys(PKG.peerDependencies))
      expect(fs.existsSync(path.join(app, "node_modules", name)), name).toBe(false);
    expect(fs.existsSync(path.join(app, "node_modules/tsx"))).toBe(false);
  });

  it("runs a workflow from plain node through petrel/client, without loading the server", async () => {
    fs.writeFileSync(path.join(app, "run.mjs"), RUN_MJS);
    const { stdout } = await sh(process.execPath, ["run.mjs", server.grpcAddress], app);
    const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Record<string, unknown>;
    expect(result.phase).toBe(W.SUCCEEDED);
    expect(result.outputs).toEqual({ text: "hello, package" });
    expect(result.knex).toBe(false);
    expect(result.pg).toBe(false);
    expect(result.inProcess).toMatch(
      /^FriendlyRemote\.inProcess\(\) needs the server's dependencies: npm install /,
    );
    for (const name of Object.keys(PKG.peerDependencies)) expect(result.inProcess).toContain(name);
  });

  it("type-checks under tsc --strict with skipLibCheck off and only @types/node", async () => {
    fs.writeFileSync(path.join(app, "check.ts"), CHECK_TS);
    fs.writeFileSync(path.join(app, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2));
    expect(fs.readdirSync(path.join(app, "node_modules/@types"))).toEqual(["node"]);
    const r = await sh(TSC, ["-p", "."], app).catch((err: { stdout?: string }) => ({
      stdout: err.stdout ?? "",
    }));
    expect(r.stdout).toBe("");
  });

  it("has a petrel bin that runs the compiled CLI", async () => {
    const npx = (...args: string[]) => sh("npx", ["--no-install", "petrel", ...args], app);
    expect((await npx("--version")).stdout.trim()).toBe(`petrel ${PKG.version}`);
    const get = await npx("--endpoint", server.grpcAddress, "get", "projects", "-o", "json");
    expect(get.stdout).toContain('"pkg"');
    fs.writeFileSync(path.join(app, "module.mjs"), MODULE_MJS);
    const at = ["--endpoint", server.grpcAddress, "--project", "pkg"];
    expect((await npx(...at, "register", "module.mjs", "--version", "v1")).stdout).toMatch(/registered/);
    const wf = await server.admin.getWorkflow({
      id: {
        resourceType: ResourceType.WORKFLOW,
        project: "pkg",
        domain: "development",
        name: "shout",
        version: "v1",
      },
    });
    expect(wf.id?.name).toBe("shout");
    const serve = await npx("serve").then(
      () => ({ code: 0, stderr: "" }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(serve.code).toBe(1);
    expect(serve.stderr).toMatch(/`petrel serve` needs the server's dependencies: npm install .*knex/);
  });
});
