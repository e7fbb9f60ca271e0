// Container tasks run as local processes or with `docker run` (Flyte's raw-container contract): template
// substitution, inputs written as files (inputs.pb, inputs.json, one file per input), outputs read back from
// outputs.pb, outputs.json or one file per output. As processes, the configured in-container paths are mapped to
// per-attempt directories. Either way the task's process group dies with the server (see process-group.ts), and a
// Docker attempt first removes any container an earlier run of it (or of an earlier attempt) left behind.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type ExecutionError,
  ExecutionError_ErrorKind,
  ExecutionErrorSchema,
} from "../../../gen/flyteidl/core/execution_pb.js";
import { type Literal, type LiteralMap, LiteralMapSchema } from "../../../gen/flyteidl/core/literals_pb.js";
import type { Container } from "../../../gen/flyteidl/core/tasks_pb.js";
import { BlobType_BlobDimensionality } from "../../../gen/flyteidl/core/types_pb.js";
import { literalToPlain, type Plain, plainToLiteral } from "../../transformers/plain-values.js";
import { OffloadedLiteralError, resolveOffloaded } from "../offloaded.js";
import type { TaskContext, TaskPlugin, TaskResult } from "./plugin.js";
import { runInProcessGroup } from "./process-group.js";
import {
  downloadBlobInput,
  keepBlobOutput,
  type OutputPlace,
  outputPlace,
  type TaskIo,
  toTaskUri,
} from "./task-io.js";

const TAIL = 2000;
const KILL_GRACE_MS = 2000;
const REMOVE_TIMEOUT_MS = 30_000;

interface Dirs {
  readonly input: string;
  readonly output: string;
  readonly raw: string;
}

const userError = (code: string, message: string): ExecutionError =>
  create(ExecutionErrorSchema, { code, message, kind: ExecutionError_ErrorKind.USER });

/** An input as text: blobs as the task reaches them (a local store's files as paths). */
function plainText(lit: Literal): string {
  const v = literalToPlain(lit, toTaskUri);
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** The blob a literal holds directly, if any. */
function blobOf(lit: Literal | undefined) {
  const s = lit?.value.case === "scalar" ? lit.value.value.value : undefined;
  return s?.case === "blob" ? s.value : undefined;
}

/**
 * inputs.pb (as stored: offloaded values stay references, as flytekit reads them), inputs.json and one file per input
 * (`values`: offloaded values read); with data_config, blob inputs as the files themselves.
 */
async function writeInputs(
  dirs: Dirs,
  stored: LiteralMap,
  inputs: LiteralMap,
  c: Container,
  io: TaskIo,
): Promise<void> {
  fs.writeFileSync(path.join(dirs.input, "inputs.pb"), toBinary(LiteralMapSchema, stored));
  const plain = Object.fromEntries(
    Object.entries(inputs.literals).map(([k, v]) => [k, literalToPlain(v, toTaskUri)]),
  );
  fs.writeFileSync(path.join(dirs.input, "inputs.json"), JSON.stringify(plain));
  for (const [k, v] of Object.entries(inputs.literals)) {
    const local = path.join(dirs.input, k);
    const blob = blobOf(v);
    const multipart = blob?.metadata?.type?.dimensionality === BlobType_BlobDimensionality.MULTIPART;
    if (c.dataConfig?.enabled === true && blob !== undefined)
      if (await downloadBlobInput(io, blob.uri, multipart, local)) continue;
    fs.writeFileSync(local, plainText(v));
  }
}

export type ContainerRuntime = "process" | "docker";

/** Paths as the task sees them: the container's (docker) or this attempt's directories (process). */
export function taskPaths(c: Container, dirs: Dirs, runtime: ContainerRuntime): Dirs {
  if (runtime === "process") return dirs;
  const dc = c.dataConfig;
  return {
    input: dc?.enabled === true && dc.inputPath !== "" ? dc.inputPath : "/var/flyte/inputs",
    output: dc?.enabled === true && dc.outputPath !== "" ? dc.outputPath : "/var/flyte/outputs",
    raw: "/var/flyte/raw",
  };
}

/** Substitutes Flyte's template variables; as a process, the configured data paths are mapped onto `dirs`. */
export function renderArgs(
  argv: readonly string[],
  c: Container,
  inputs: LiteralMap,
  dirs: Dirs,
  rewrite = true,
): string[] {
  const mapped: [string, string][] = [];
  if (rewrite && c.dataConfig?.enabled === true) {
    if (c.dataConfig.inputPath !== "") mapped.push([c.dataConfig.inputPath, dirs.input]);
    if (c.dataConfig.outputPath !== "") mapped.push([c.dataConfig.outputPath, dirs.output]);
  }
  return argv.map((arg) => {
    let out = arg
      .replace(/\{\{\s*\.inputs\.([A-Za-z0-9_]+)\s*\}\}/g, (_m, name: string) => {
        const lit = inputs.literals[name];
        return lit === undefined ? "" : plainText(lit);
      })
      .replace(/\{\{\s*\.input\s*\}\}/g, path.join(dirs.input, "inputs.pb"))
      .replace(/\{\{\s*\.inputPrefix\s*\}\}/g, dirs.input)
      .replace(/\{\{\s*\.outputPrefix\s*\}\}/g, dirs.output)
      .replace(/\{\{\s*\.rawOutputDataPrefix\s*\}\}/g, dirs.raw);
    for (const [from, to] of mapped) out = out.split(from).join(to);
    return out;
  });
}

/** Outputs from outputs.pb, else outputs.json, else one file per declared output (blob URIs as the store names them). */
export async function readOutputs(
  ctx: TaskContext,
  place: Pick<OutputPlace, "read" | "fromTask" | "dirs">,
): Promise<{ outputs?: LiteralMap; error?: ExecutionError }> {
  const declared = ctx.template.interface?.outputs?.variables ?? {};
  const pb = await place.read("outputs.pb");
  if (pb !== undefined) return { outputs: fromBinary(LiteralMapSchema, pb) };
  let plain: Record<string, Plain> | undefined;
  const json = await place.read("outputs.json");
  if (json !== undefined) {
    try {
      plain = JSON.parse(Buffer.from(json).toString("utf8")) as Record<string, Plain>;
    } catch (err) {
      return {
        error: userError("OutputsParseError", `outputs.json is not valid JSON: ${(err as Error).message}`),
      };
    }
  }
  const literals: Record<string, Literal> = {};
  for (const [name, variable] of Object.entries(declared)) {
    const blobType = variable.type?.type.case === "blob" ? variable.type.type.value : undefined;
    const c = ctx.template.target.case === "container" ? ctx.template.target.value : undefined;
    const local = path.join(place.dirs.output, name);
    if (
      plain === undefined &&
      blobType !== undefined &&
      ctx.io !== undefined &&
      c?.dataConfig?.enabled === true
    ) {
      // The file itself is the output (data_config's contract): kept under the raw-output prefix.
      if (!fs.existsSync(local))
        return { error: userError("OutputsNotFound", `output [${name}] was not written by the task`) };
      literals[name] = plainToLiteral(await keepBlobOutput(ctx.io, local, name), variable.type);
      continue;
    }
    const file = plain === undefined ? await place.read(name) : undefined;
    const value =
      plain !== undefined ? plain[name] : file === undefined ? undefined : Buffer.from(file).toString("utf8");
    if (value === undefined)
      return {
        error: userError("OutputsNotFound", `output [${name}] was not written by the task`),
      };
    try {
      literals[name] = plainToLiteral(value, variable.type, (uri) => place.fromTask(uri));
    } catch (err) {
      return { error: userError("OutputTypeMismatch", `output [${name}]: ${(err as Error).message}`) };
    }
  }
  return { outputs: create(LiteralMapSchema, { literals }) };
}

/** `docker run` of the task's image with this attempt's directories mounted where the task expects them. */
export function dockerArgv(
  c: Container,
  argv: readonly string[],
  dirs: Dirs,
  paths: Dirs,
  env: Record<string, string>,
  name: string,
): string[] {
  const mounts = [
    ["-v", `${dirs.input}:${paths.input}`],
    ["-v", `${dirs.output}:${paths.output}`],
    ["-v", `${dirs.raw}:${paths.raw}`],
  ].flat();
  const envs = Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
  const entry = c.command.length > 0 ? ["--entrypoint", argv[0] ?? ""] : [];
  const rest = c.command.length > 0 ? argv.slice(1) : argv;
  return ["docker", "run", "--rm", "--name", name, ...mounts, ...envs, ...entry, c.image, ...rest];
}

/**
 * The container of one attempt: the same name whenever that attempt runs (so a leftover can be found and removed),
 * distinct across attempts, nodes, executions, domains and projects (the digest keeps sanitised names apart).
 */
export function containerName(
  ctx: Pick<TaskContext, "project" | "domain" | "executionName" | "nodeId">,
  attempt: number,
): string {
  const key = [ctx.project ?? "", ctx.domain ?? "", ctx.executionName, ctx.nodeId, String(attempt)].join(
    "\n",
  );
  const digest = createHash("sha256").update(key).digest("hex").slice(0, 12);
  const readable = `${ctx.executionName}-${ctx.nodeId}-${attempt}`
    .replace(/[^a-zA-Z0-9_.-]/g, "-")
    .slice(0, 80);
  return `petrel-${readable}-${digest}`;
}

/**
 * Removes the containers of this attempt and the earlier ones before the attempt starts: a replica that died may
 * have left one running (its watchdog removes it too, unless the daemon could not be reached then).
 */
export function leftoverContainers(ctx: Parameters<typeof containerName>[0], attempt: number): string[] {
  return Array.from({ length: attempt + 1 }, (_, a) => containerName(ctx, a));
}

const removeContainers = (names: readonly string[], env: Record<string, string>, cwd: string) =>
  runInProcessGroup(["docker", "rm", "--force", ...names], {
    cwd,
    env,
    signal: AbortSignal.timeout(REMOVE_TIMEOUT_MS),
    graceMs: KILL_GRACE_MS,
  });

export function createContainerPlugin(runtime: ContainerRuntime): TaskPlugin {
  return { name: `container-${runtime}`, run: (ctx) => runContainer(ctx, runtime) };
}

async function runContainer(ctx: TaskContext, runtime: ContainerRuntime): Promise<TaskResult> {
  const c = ctx.template.target.case === "container" ? ctx.template.target.value : undefined;
  if (c === undefined)
    return { ok: false, error: userError("BadTaskSpecification", "task has no container") };
  if (ctx.io === undefined)
    return {
      ok: false,
      error: userError("BadTaskSpecification", "the attempt has no place in the blob store"),
    };
  const place = await outputPlace(ctx.io, c, ctx.workDir);
  const dirs: Dirs = place.dirs;
  let values: LiteralMap;
  try {
    values = await resolveOffloaded(ctx.io.store, ctx.inputs);
  } catch (err) {
    if (!(err instanceof OffloadedLiteralError)) throw err;
    return { ok: false, error: userError("OffloadedLiteralUnreadable", err.message) };
  }
  await writeInputs(dirs, ctx.inputs, values, c, ctx.io);
  const paths = taskPaths(c, dirs, runtime);
  const rendered = renderArgs([...c.command, ...c.args], c, values, paths, runtime === "process");
  if (rendered.length === 0)
    return { ok: false, error: userError("BadTaskSpecification", "container has no command or args") };
  const env: Record<string, string> = {
    PATH: ctx.envs.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: ctx.workDir,
  };
  const taskEnv: Record<string, string> = {};
  for (const kv of c.env) taskEnv[kv.key] = kv.value;
  Object.assign(taskEnv, ctx.envs);
  const docker = runtime === "docker";
  const name = containerName(ctx, ctx.attempt);
  if (docker) await removeContainers(leftoverContainers(ctx, ctx.attempt), env, ctx.workDir);
  const argv = docker ? dockerArgv(c, rendered, dirs, paths, taskEnv, name) : rendered;
  const r = await runInProcessGroup(argv, {
    cwd: ctx.workDir,
    env: { ...env, ...(docker ? {} : taskEnv) },
    signal: ctx.signal,
    graceMs: KILL_GRACE_MS,
    // A killed `docker` client leaves its container running: the watchdog removes it should the server die.
    ...(docker ? { onServerDeath: ["docker", "rm", "--force", name] } : {}),
  });
  // Stopped, or the client was killed: the container may outlive it.
  if (docker && (ctx.signal.aborted || r.code === null)) await removeContainers([name], env, ctx.workDir);
  const logs = { stdout: r.stdout, stderr: r.stderr };
  if (ctx.signal.aborted) return { ok: false, error: userError("Aborted", "the task was stopped"), logs };
  if (r.spawnError !== undefined)
    return {
      ok: false,
      error: userError("CommandNotFound", `cannot start ${argv[0]}: ${r.spawnError.message}`),
      logs,
    };
  if (r.code !== 0) {
    const tail = r.stderr.trim().slice(-TAIL) || r.stdout.trim().slice(-TAIL);
    return { ok: false, error: userError("NonZeroExitCode", `exit code ${r.code}: ${tail}`), logs };
  }
  const read = await readOutputs(ctx, place);
  if (read.error !== undefined) return { ok: false, error: read.error, logs };
  await place.keep();
  return { ok: true, outputs: read.outputs ?? create(LiteralMapSchema), logs };
}
