// Container tasks run as local processes or with `docker run` (Flyte's container contract): template substitution,
// inputs written as files (inputs.pb, inputs.json, one file per input, the template as task.pb), results read back
// as task-results.ts says (error.pb, futures.pb, outputs). As processes, the configured in-container paths are mapped to
// per-attempt directories. Either way the task's process group dies with the server (see process-group.ts), and a
// Docker attempt first removes any container an earlier run of it (or of an earlier attempt) left behind.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { ExecutionError_ErrorKind, ExecutionErrorSchema } from "../../../gen/flyteidl/core/execution_pb.js";
import { type Literal, type LiteralMap, LiteralMapSchema } from "../../../gen/flyteidl/core/literals_pb.js";
import { type Container, TaskTemplateSchema } from "../../../gen/flyteidl/core/tasks_pb.js";
import { BlobType_BlobDimensionality } from "../../../gen/flyteidl/core/types_pb.js";
import { literalToPlain } from "../../transformers/plain-values.js";
import { OffloadedLiteralError, resolveOffloaded } from "../offloaded.js";
import type { TaskContext, TaskPlugin, TaskResult } from "./plugin.js";
import { runInProcessGroup } from "./process-group.js";
import { downloadBlobInput, localPath, outputPlace, type TaskIo, toTaskUri } from "./task-io.js";
import { readCompletion, userError } from "./task-results.js";
import { renderTemplate, TemplateError, type TemplateVars } from "./template-vars.js";

const TAIL = 2000;
const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";
/** Where a docker task finds the previous attempt's checkpoint (mounted read-only). */
const PREV_CHECKPOINT = "/var/flyte/prev-checkpoint";
const KILL_GRACE_MS = 2000;
const REMOVE_TIMEOUT_MS = 30_000;

interface Dirs {
  readonly input: string;
  readonly output: string;
  readonly raw: string;
}

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

/**
 * Substitutes Flyte's template variables (template-vars.ts); as a process, the configured data paths are mapped onto
 * this attempt's directories.
 */
export function renderArgs(
  argv: readonly string[],
  c: Container,
  inputs: LiteralMap,
  vars: TemplateVars,
  dirs: Dirs,
  rewrite = true,
): string[] {
  const mapped: [string, string][] = [];
  if (rewrite && c.dataConfig?.enabled === true) {
    if (c.dataConfig.inputPath !== "") mapped.push([c.dataConfig.inputPath, dirs.input]);
    if (c.dataConfig.outputPath !== "") mapped.push([c.dataConfig.outputPath, dirs.output]);
  }
  return argv.map((arg) => {
    let out = renderTemplate(arg, vars, inputs);
    for (const [from, to] of mapped) out = out.split(from).join(to);
    return out;
  });
}

/** `docker run` of the task's image with this attempt's directories mounted where the task expects them. */
export function dockerArgv(
  c: Container,
  argv: readonly string[],
  dirs: Dirs,
  paths: Dirs,
  env: Record<string, string>,
  name: string,
  extraMounts: readonly (readonly [string, string])[] = [],
): string[] {
  const mounts = [
    ["-v", `${dirs.input}:${paths.input}`],
    ["-v", `${dirs.output}:${paths.output}`],
    ["-v", `${dirs.raw}:${paths.raw}`],
    ...extraMounts.map(([host, inside]) => ["-v", `${host}:${inside}`]),
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

/** The template variables of this attempt, as the task sees its places (`paths`). */
function attemptVars(ctx: TaskContext, io: TaskIo, paths: Dirs, runtime: ContainerRuntime): TemplateVars {
  const prev = io.prevCheckpointPrefix;
  return {
    input: path.posix.join(paths.input, "inputs.pb"),
    inputPrefix: paths.input,
    outputPrefix: paths.output,
    rawOutputDataPrefix: paths.raw,
    checkpointOutputPrefix: `${paths.raw}/_flytecheckpoints`,
    prevCheckpointPrefix:
      prev === undefined
        ? '""'
        : runtime === "docker" && localPath(prev) !== undefined
          ? PREV_CHECKPOINT
          : toTaskUri(prev),
    perRetryUniqueKey: io.uniqueKey,
    taskTemplatePath: path.posix.join(paths.input, "task.pb"),
    namespace: `${ctx.project ?? ""}-${ctx.domain ?? ""}`,
  };
}

/** How a process that ended without an exit code (or a nonzero one) failed: retryable, as in Flyte. */
function exitFailure(r: {
  code: number | null;
  exitSignal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}) {
  const tail = r.stderr.trim().slice(-TAIL) || r.stdout.trim().slice(-TAIL);
  if (r.code === null && r.exitSignal === "SIGKILL")
    return create(ExecutionErrorSchema, {
      code: "Interrupted",
      message: `the task's process was killed (SIGKILL)${tail === "" ? "" : `: ${tail}`}`,
      kind: ExecutionError_ErrorKind.SYSTEM,
    });
  const how = r.code === null ? `signal ${r.exitSignal ?? "unknown"}` : `exit code ${r.code}`;
  return userError("NonZeroExitCode", `${how}: ${tail}`);
}

async function runContainer(ctx: TaskContext, runtime: ContainerRuntime): Promise<TaskResult> {
  const c = ctx.template.target.case === "container" ? ctx.template.target.value : undefined;
  if (c === undefined)
    return { ok: false, error: userError("BadTaskSpecification", "task has no container"), permanent: true };
  if (ctx.io === undefined)
    return {
      ok: false,
      error: userError("BadTaskSpecification", "the attempt has no place in the blob store"),
      permanent: true,
    };
  const io = ctx.io;
  const place = await outputPlace(io, c, ctx.workDir);
  const dirs: Dirs = place.dirs;
  let values: LiteralMap;
  try {
    values = await resolveOffloaded(io.store, ctx.inputs);
  } catch (err) {
    if (!(err instanceof OffloadedLiteralError)) throw err;
    return { ok: false, error: userError("OffloadedLiteralUnreadable", err.message) };
  }
  await writeInputs(dirs, ctx.inputsFile ?? ctx.inputs, values, c, io);
  fs.writeFileSync(path.join(dirs.input, "task.pb"), toBinary(TaskTemplateSchema, ctx.template));
  const paths = taskPaths(c, dirs, runtime);
  let rendered: string[];
  try {
    rendered = renderArgs(
      [...c.command, ...c.args],
      c,
      values,
      attemptVars(ctx, io, paths, runtime),
      paths,
      runtime === "process",
    );
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    return { ok: false, error: userError("BadTaskSpecification", err.message), permanent: true };
  }
  if (rendered.length === 0)
    return {
      ok: false,
      error: userError("BadTaskSpecification", "container has no command or args"),
      permanent: true,
    };
  // Only what Flyte gives a task: never the server's own environment.
  const env: Record<string, string> = { PATH: ctx.envs.PATH ?? DEFAULT_PATH, HOME: ctx.workDir };
  const taskEnv: Record<string, string> = {};
  for (const kv of c.env) taskEnv[kv.key] = kv.value;
  Object.assign(taskEnv, ctx.envs);
  const docker = runtime === "docker";
  const name = containerName(ctx, ctx.attempt);
  if (docker) await removeContainers(leftoverContainers(ctx, ctx.attempt), env, ctx.workDir);
  const prev = io.prevCheckpointPrefix === undefined ? undefined : localPath(io.prevCheckpointPrefix);
  const extra: [string, string][] = prev === undefined ? [] : [[prev, `${PREV_CHECKPOINT}:ro`]];
  const argv = docker ? dockerArgv(c, rendered, dirs, paths, taskEnv, name, extra) : rendered;
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
  if (r.code !== 0) return { ok: false, error: exitFailure(r), logs };
  return readCompletion(ctx, place, logs);
}
