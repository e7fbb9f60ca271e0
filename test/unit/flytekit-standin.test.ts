// The flytekit stand-in binaries run directly in a temp dir (no server); their files are read back with Petrel's
// own protobuf-es code, so both sides of the task contract are checked against each other.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DynamicJobSpecSchema } from "../../gen/flyteidl/core/dynamic_job_pb.js";
import { ContainerError_Kind, ErrorDocumentSchema } from "../../gen/flyteidl/core/errors_pb.js";
import { ExecutionError_ErrorKind } from "../../gen/flyteidl/core/execution_pb.js";
import { type Literal, LiteralMapSchema, LiteralSchema } from "../../gen/flyteidl/core/literals_pb.js";
import { TaskTemplateSchema } from "../../gen/flyteidl/core/tasks_pb.js";
import { literalInt } from "../fixtures/flyte-builders.js";
import {
  flyteidl,
  fromPlain,
  type PythonTaskOptions,
  pythonTask,
  pythonTaskArgs,
} from "../support/flyteidl-client.js";

const STANDIN = fileURLToPath(new URL("../fixtures/flytekit-standin/", import.meta.url));
const base: PythonTaskOptions = {
  project: "p",
  domain: "d",
  name: "standin.tasks.t",
  version: "v1",
  taskName: "add",
};
let dir = "";

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "standin-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const collection = (...items: Literal[]) =>
  create(LiteralSchema, { value: { case: "collection", value: { literals: items } } });

function writeInputs(literals: Record<string, Literal>): string {
  const file = path.join(dir, "data", "inputs.pb");
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, toBinary(LiteralMapSchema, create(LiteralMapSchema, { literals })));
  return file;
}

/** Substitutes the template variables the way the engine does (prev checkpoint: `""` when none). */
function substitute(args: string[], vars: Record<string, string> = {}): string[] {
  const values: Record<string, string> = {
    input: path.join(dir, "data", "inputs.pb"),
    outputPrefix: path.join(dir, "data", "0"),
    rawOutputDataPrefix: path.join(dir, "raw"),
    checkpointOutputPrefix: path.join(dir, "raw", "_flytecheckpoints"),
    prevCheckpointPrefix: '""',
    ...vars,
  };
  return args.map((a) => a.replace(/\{\{\.(\w+)\}\}/g, (_m, k: string) => values[k] ?? _m));
}

function run(args: string[], env: Record<string, string> = {}, cwd = dir) {
  const [bin = "", ...rest] = args;
  const PATH = `${STANDIN}${path.delimiter}${path.dirname(process.execPath)}:/usr/bin:/bin`;
  const r = spawnSync(path.join(STANDIN, bin), rest, { cwd, env: { PATH, ...env }, encoding: "utf8" });
  return { code: r.status, stderr: r.stderr };
}

const runTask = (o: Partial<PythonTaskOptions>, env: Record<string, string> = {}) =>
  run(substitute(pythonTaskArgs({ ...base, ...o })), env);

const out = (name: string) => path.join(dir, "data", "0", name);
const outputs = () => toJson(LiteralMapSchema, fromBinary(LiteralMapSchema, readFileSync(out("outputs.pb"))));
const intOutputs = (n: number) => ({ literals: { o0: { scalar: { primitive: { integer: String(n) } } } } });
const stringOutput = () => {
  const lit = fromBinary(LiteralMapSchema, readFileSync(out("outputs.pb"))).literals.o0;
  const p =
    lit?.value.case === "scalar" && lit.value.value.value.case === "primitive" ? lit.value.value.value : null;
  return p?.value.value.case === "stringValue" ? p.value.value.value : undefined;
};
const errorOf = () => fromBinary(ErrorDocumentSchema, readFileSync(out("error.pb"))).error;
const classOf = () => [errorOf()?.code, errorOf()?.kind, errorOf()?.origin];
const { NON_RECOVERABLE, RECOVERABLE } = ContainerError_Kind;
const { USER, SYSTEM } = ExecutionError_ErrorKind;

describe("pyflyte-execute stand-in", () => {
  it("add writes outputs.pb that protobuf-es reads as {o0: 3}, and exits 0", () => {
    writeInputs({ a: literalInt(1), b: literalInt(2) });
    expect(runTask({ taskName: "add" }).code).toBe(0);
    expect(outputs()).toEqual(intOutputs(3));
    expect(existsSync(out("error.pb"))).toBe(false);
  });

  it("accepts file:// URLs", () => {
    writeInputs({ a: literalInt(4), b: literalInt(5) });
    const url = (p: string) => pathToFileURL(path.join(dir, p)).href;
    const vars = { input: url("data/inputs.pb"), outputPrefix: url("data/0") };
    expect(run(substitute(pythonTaskArgs(base), vars)).code).toBe(0);
    expect(outputs()).toEqual(intOutputs(9));
  });

  it("fail writes a NON_RECOVERABLE USER error.pb and still exits 0 (1 with FLYTE_FAIL_ON_ERROR)", () => {
    writeInputs({ a: literalInt(5) });
    expect(runTask({ taskName: "fail" }).code).toBe(0);
    const e = errorOf();
    expect(classOf()).toEqual(["USER:RuntimeError", NON_RECOVERABLE, USER]);
    expect(e?.message).toMatch(/^Trace:\n\n {4}Traceback[\s\S]*\nMessage:\n\n {4}ValueError: bad value: 5$/);
    expect(Number(e?.timestamp?.seconds)).toBeGreaterThan(0);
    expect(existsSync(out("outputs.pb"))).toBe(false);
    expect(runTask({ taskName: "fail" }, { FLYTE_FAIL_ON_ERROR: "true" }).code).toBe(1);
  });

  it("flaky raises FlyteRecoverableException until FLYTE_ATTEMPT_NUMBER reaches succeed_on", () => {
    writeInputs({ succeed_on: literalInt(1) });
    expect(runTask({ taskName: "flaky" }, { FLYTE_ATTEMPT_NUMBER: "0" }).code).toBe(0);
    expect(classOf()).toEqual(["USER:Recoverable", RECOVERABLE, USER]);
    expect(errorOf()?.message).toContain(
      "FlyteRecoverableException: USER:Recoverable: error=attempt 0 failed",
    );
    rmSync(out(""), { recursive: true });
    expect(runTask({ taskName: "flaky" }, { FLYTE_ATTEMPT_NUMBER: "1" }).code).toBe(0);
    expect(outputs()).toEqual(intOutputs(1));
  });

  it("vars reports the flags, writes a checkpoint and reads the previous one", () => {
    writeInputs({});
    mkdirSync(path.join(dir, "prev"));
    writeFileSync(path.join(dir, "prev", "ckpt.txt"), "0");
    const vars = { prevCheckpointPrefix: path.join(dir, "prev") };
    expect(
      run(substitute(pythonTaskArgs({ ...base, taskName: "vars" }), vars), { FLYTE_ATTEMPT_NUMBER: "1" })
        .code,
    ).toBe(0);
    const seen = JSON.parse(stringOutput() ?? "{}");
    expect(seen).toMatchObject({ inputs: path.join(dir, "data", "inputs.pb"), outputPrefix: out("") });
    expect(seen).toMatchObject({
      rawOutputDataPrefix: path.join(dir, "raw"),
      prevCheckpointContent: "0",
      cwd: dir,
    });
    expect(readFileSync(path.join(dir, "raw", "_flytecheckpoints", "ckpt.txt"), "utf8")).toBe("1");
    rmSync(out(""), { recursive: true });
    expect(runTask({ taskName: "vars" }).code).toBe(0);
    expect(JSON.parse(stringOutput() ?? "{}")).toMatchObject({ prevCheckpoint: null });
  });

  it("deck writes deck.html next to outputs.pb; env reports the environment", () => {
    writeInputs({});
    expect(runTask({ taskName: "deck" }, { FLYTE_INTERNAL_EXECUTION_ID: "e1" }).code).toBe(0);
    expect(readFileSync(out("deck.html"), "utf8")).toBe("<html>deck of e1</html>");
    expect(outputs()).toEqual(intOutputs(1));
    expect(runTask({ taskName: "env" }, { FLYTE_ATTEMPT_NUMBER: "3" }).code).toBe(0);
    expect(JSON.parse(stringOutput() ?? "{}")).toMatchObject({ FLYTE_ATTEMPT_NUMBER: "3" });
  });

  it("reports unknown tasks as user errors, s3:// inputs as SYSTEM errors, bad usage and resolvers by exit code", () => {
    writeInputs({});
    expect(runTask({ taskName: "nope" }).code).toBe(0);
    expect(errorOf()?.message).toContain("AttributeError: module 'standin.tasks' has no attribute 'nope'");
    expect(run(substitute(pythonTaskArgs(base), { input: "s3://bucket/inputs.pb" })).code).toBe(0);
    expect(classOf()).toEqual(["SYSTEM", RECOVERABLE, SYSTEM]);
    expect(errorOf()?.message).toContain("not supported by the flytekit stand-in");
    expect(run(["pyflyte-execute", "--inputs", "x"]).code).toBe(2);
    const badResolver = run(["pyflyte-execute", "--inputs=x", "--output-prefix", "y", "--", "task-module"]);
    expect(badResolver.code).toBe(1);
    expect(badResolver.stderr).toContain("resolver");
  });
});

describe("nest (@dynamic) stand-in", () => {
  const nest = { ...base, name: "standin.tasks.nest", taskName: "nest", dynamic: true } as const;
  function writeTaskPb() {
    const template = fromPlain(".flyteidl.core.TaskTemplate", pythonTask(nest).template);
    writeFileSync(path.join(dir, "data", "task.pb"), flyteidl.core.TaskTemplate.encode(template).finish());
  }
  const futures = () => fromBinary(DynamicJobSpecSchema, readFileSync(out("futures.pb")));

  it("writes futures.pb running itself one level down, with its own template", () => {
    writeInputs({ depth: literalInt(2) });
    writeTaskPb();
    expect(runTask(nest).code).toBe(0);
    expect(existsSync(out("outputs.pb"))).toBe(false);
    const spec = futures();
    expect(spec.minSuccesses).toBe(1n);
    expect(spec.nodes.map((n) => n.id)).toEqual(["dn0"]);
    const node = spec.nodes[0];
    expect(node?.metadata?.name).toBe("nest");
    expect(node?.target.case === "taskNode" && node.target.value.reference.value).toMatchObject({
      name: nest.name,
    });
    expect(node?.inputs[0]?.var).toBe("depth");
    expect(node?.inputs[0]?.binding?.value).toMatchObject({
      case: "scalar",
      value: { value: { case: "primitive", value: { value: { case: "integer", value: 1n } } } },
    });
    const taskPb = fromBinary(TaskTemplateSchema, readFileSync(path.join(dir, "data", "task.pb")));
    expect(spec.tasks).toHaveLength(1);
    expect(toBinary(TaskTemplateSchema, spec.tasks[0] ?? taskPb)).toEqual(
      toBinary(TaskTemplateSchema, taskPb),
    );
    expect(spec.outputs[0]?.binding?.value).toMatchObject({
      case: "promise",
      value: { nodeId: "dn0", var: "o0" },
    });
  });

  it("at depth 0 runs add(a=100, b=1) from a template it builds", () => {
    writeInputs({ depth: literalInt(0) });
    writeTaskPb();
    expect(runTask(nest, { STANDIN_ADD_TASK_NAME: "standin.tasks.add" }).code).toBe(0);
    const spec = futures();
    const add = spec.tasks[0];
    expect(add?.id?.name).toBe("standin.tasks.add");
    expect(add?.target.case === "container" && add.target.value.args.slice(-2)).toEqual(["task-name", "add"]);
    expect(Object.keys(add?.interface?.inputs?.variables ?? {})).toEqual(["a", "b"]);
    expect(spec.nodes[0]?.inputs.map((b) => b.var)).toEqual(["a", "b"]);
  });
});

describe("pyflyte-map-execute stand-in", () => {
  const square = {
    ...base,
    name: "standin.tasks.map_square_0-arraynode",
    taskName: "square",
    map: true,
  } as const;
  const arrayEnv = (i: number) => ({
    BATCH_JOB_ARRAY_INDEX_VAR_NAME: "FLYTE_K8S_ARRAY_INDEX",
    FLYTE_K8S_ARRAY_INDEX: `${i}`,
  });

  it("picks its element of the array's inputs.pb by index (SINGLE_INPUT_FILE), honouring the offset", () => {
    writeInputs({ x: collection(literalInt(2), literalInt(3), literalInt(4)) });
    expect(runTask(square, arrayEnv(2)).code).toBe(0);
    expect(outputs()).toEqual(intOutputs(16));
    expect(runTask(square, { ...arrayEnv(0), BATCH_JOB_ARRAY_INDEX_OFFSET: "1" }).code).toBe(0);
    expect(outputs()).toEqual(intOutputs(9));
  });

  it("uses a scalar input as is (INDIVIDUAL_INPUT_FILES) and fails x == 7 as a user error", () => {
    writeInputs({ x: literalInt(5) });
    expect(runTask(square, arrayEnv(3)).code).toBe(0);
    expect(outputs()).toEqual(intOutputs(25));
    writeInputs({ x: collection(literalInt(7)) });
    expect(runTask(square, arrayEnv(0)).code).toBe(0);
    expect(classOf()).toEqual(["USER:RuntimeError", NON_RECOVERABLE, USER]);
  });
});

describe("pyflyte-fast-execute stand-in", () => {
  function archive(): string {
    const src = path.join(dir, "src");
    mkdirSync(src);
    writeFileSync(path.join(src, "greeting.txt"), "hello from the archive\n");
    const file = path.join(dir, "fastabc.tar.gz");
    expect(spawnSync("tar", ["-czf", file, "-C", src, "."]).status).toBe(0);
    return file;
  }

  it("extracts the archive into --dest-dir and runs the task there", () => {
    writeInputs({});
    const work = path.join(dir, "work");
    mkdirSync(work);
    const args = pythonTaskArgs({
      ...base,
      taskName: "greet",
      fast: { distribution: pathToFileURL(archive()).href },
    });
    expect(run(substitute(args), {}, work).code).toBe(0);
    expect(stringOutput()).toBe("hello from the archive");
  });

  it("finds the code through PYTHONPATH when --dest-dir is elsewhere; reports unreadable archives", () => {
    writeInputs({});
    const dest = path.join(dir, "dest");
    mkdirSync(dest);
    const fast = { distribution: archive(), destDir: dest };
    expect(runTask({ taskName: "greet", fast }).code).toBe(0);
    expect(stringOutput()).toBe("hello from the archive");
    expect(
      runTask({ taskName: "greet", fast: { distribution: "s3://b/fast.tar.gz", destDir: dest } }).code,
    ).toBe(0);
    expect(errorOf()?.origin).toBe(SYSTEM);
    rmSync(out(""), { recursive: true });
    rmSync(path.join(dest, "greeting.txt"));
    expect(runTask({ taskName: "greet" }).code).toBe(0);
    expect(errorOf()?.message).toContain("FileNotFoundError");
  });
});
