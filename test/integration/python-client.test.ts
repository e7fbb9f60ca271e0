// Polyglot proof: a Python program (Debian's python3-grpcio and python3-protobuf, stubs generated from proto/ at test
// time, never committed) registers a workflow with an approve gate, executes it with inputs, approves the gate, reads
// the outputs, pages through executions and gets FlyteAdmin's NOT_FOUND — against the server startTestServer gives
// (the local one, or the endpoint it is pointed at). Without Python's grpc and protobuf the suite is skipped, except
// in CI (.ci/run installs them through scripts/ci-python.sh).
import { execFile, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { literalInt } from "../fixtures/flyte-builders.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const PYTHON_DIR = path.resolve(import.meta.dirname, "../python");

/** The first interpreter that imports grpc and protobuf: Debian's, which a pyenv `python3` on PATH may hide. */
function findPython(): string | undefined {
  const candidates = [process.env.PETREL_TEST_PYTHON, "/usr/bin/python3", "python3"];
  return candidates.find(
    (p) =>
      p !== undefined &&
      p !== "" &&
      spawnSync(p, ["-c", "import grpc, google.protobuf"], { stdio: "ignore" }).status === 0,
  );
}

const python = findPython();
if (python === undefined) {
  const why = "no python3 that imports grpc and google.protobuf (run scripts/ci-python.sh)";
  if (process.env.CI === "true") throw new Error(`the Python client test needs them in CI: ${why}`);
  console.warn(`skipping the Python client test: ${why}`);
}

interface PythonRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a script under test/python without blocking the event loop (the server may be in this process). */
function runPython(script: string, args: string[]): Promise<PythonRun> {
  return new Promise((resolve) => {
    execFile(
      python as string,
      [path.join(PYTHON_DIR, script), ...args],
      { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, stdout, stderr: err !== null && stderr === "" ? err.message : stderr });
      },
    );
  });
}

interface ClientReport {
  readonly ok: boolean;
  readonly project: string;
  readonly launchPlans: string[];
  readonly gated: { name: string; signal: string; signalType: string; phase: string; outputs: object };
  readonly plain: { name: string; phase: string; outputs: object }[];
  readonly pages: { names: string[]; token: string }[];
  readonly notFound: { code: string; message: string };
}

let t: TestServer;
let stubs: string;

describe.skipIf(python === undefined)("a Python client over grpcio with stubs generated from proto/", () => {
  beforeAll(async () => {
    stubs = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-py-stubs-"));
    const generated = await runPython("generate_stubs.py", [stubs]);
    expect(generated.code, generated.stderr).toBe(0);
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.stop();
    if (stubs !== undefined) fs.rmSync(stubs, { recursive: true, force: true });
  });

  it("registers, executes with inputs, approves a gate, reads outputs, pages executions, and gets NOT_FOUND", async () => {
    // --timeout is per execution: the client reports a stuck one within the test's time
    const args = ["--endpoint", t.grpcAddress, "--stubs", stubs, "--timeout", "30"];
    const run = await runPython("polyglot_client.py", args);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as ClientReport;
    expect(report.ok).toBe(true);
    expect(report.launchPlans).toEqual(["gated", "plain"]);
    expect(report.gated).toEqual({
      name: "gated-1",
      signal: "go",
      signalType: "BOOLEAN",
      phase: "SUCCEEDED",
      outputs: { o: 21 },
    });
    expect(report.plain).toEqual(
      [1, 2, 3, 4, 5].map((i) => ({ name: `plain-${i}`, phase: "SUCCEEDED", outputs: { o: i } })),
    );
    // six executions, two a page oldest first; tokens are opaque, and a full last page still carries one, so the
    // client makes one more call that returns an empty page and no token
    expect(report.pages.map((p) => p.names)).toEqual([
      ["gated-1", "plain-1"],
      ["plain-2", "plain-3"],
      ["plain-4", "plain-5"],
      [],
    ]);
    expect(report.pages.map((p) => p.token !== "")).toEqual([true, true, true, false]);
    expect(report.notFound).toEqual({
      code: "NOT_FOUND",
      message: `missing entity of type execution with identifier project:"${report.project}" domain:"development" name:"nosuchexecution"`,
    });
    // what Python wrote reads back the same through the Connect client
    const id = { project: report.project, domain: "development", name: "gated-1" };
    expect((await t.admin.getExecution({ id })).closure?.phase).toBe(W.SUCCEEDED);
    const data = await t.admin.getExecutionData({ id });
    expect(data.fullInputs?.literals.x).toEqual(literalInt(21));
    expect(data.fullOutputs?.literals.o).toEqual(literalInt(21));
  }, 120_000);
});
