// Container tasks run as local processes or in Docker (Flyte's container contract): template substitution,
// inputs written as files (inputs.pb, inputs.json, one file per input, the template as task.pb), results read back
// as task-results.ts says (error.pb, futures.pb, outputs). As processes, the configured in-container paths are mapped to
// per-attempt directories, and the task's process group dies with the server (see process-group.ts). In Docker, the
// container runs through the Engine API (docker-runtime.ts). Either way stdout/stderr stream to the attempt's log sink.
import fs from "node:fs";
import path from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { ExecutionError_ErrorKind, ExecutionErrorSchema } from "../../../gen/flyteidl/core/execution_pb.js";
import { type Literal, type LiteralMap, LiteralMapSchema } from "../../../gen/flyteidl/core/literals_pb.js";
import { type Container, TaskTemplateSchema } from "../../../gen/flyteidl/core/tasks_pb.js";
import { BlobType_BlobDimensionality } from "../../../gen/flyteidl/core/types_pb.js";
import { literalToPlain } from "../../transformers/plain-values.js";
import { OffloadedLiteralError, resolveOffloaded } from "../offloaded.js";
import { writeSecretFiles } from "../task-secrets.js";
import type { DockerApi } from "./docker-api.js";
import {
  containerName,
  containerSpec,
  dockerMounts,
  LABEL,
  leftoverContainers,
  runDockerContainer,
} from "./docker-runtime.js";
import type { TaskContext, TaskPlugin, TaskResult } from "./plugin.js";
import { runInProcessGroup } from "./process-group.js";
import { downloadBlobInput, localPath, outputPlace, type TaskIo, toTaskUri } from "./task-io.js";
import { readCompletion, userError } from "./task-results.js";
import { withTaskUris } from "./task-uris.js";
import { renderTemplate, TemplateError, type TemplateVars } from "./template-vars.js";

const TAIL = 2000;
const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";
const KILL_GRACE_MS = 2000;
/** Where a container finds its secret files (Flyte's secret injector mounts them there too). */
const DOCKER_SECRETS_DIR = "/etc/flyte/secrets";

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
  fs.writeFileSync(path.join(dirs.input, "inputs.pb"), toBinary(LiteralMapSchema, withTaskUris(stored)));
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

/** The Docker daemon a docker runtime uses, and the engine its containers are labelled with. */
export interface DockerTarget {
  readonly api: DockerApi;
  readonly owner: string;
}

export function createContainerPlugin(runtime: ContainerRuntime, docker?: DockerTarget): TaskPlugin {
  if (runtime === "docker" && docker === undefined)
    throw new Error("the docker runtime needs a Docker daemon");
  return {
    name: `container-${runtime}`,
    run: (ctx) => runContainer(ctx, runtime === "docker" ? docker : undefined),
  };
}

/** The template variables of this attempt, as the task sees its places (`paths`). */
function attemptVars(ctx: TaskContext, io: TaskIo, paths: Dirs): TemplateVars {
  const prev = io.prevCheckpointPrefix;
  return {
    input: path.posix.join(paths.input, "inputs.pb"),
    inputPrefix: paths.input,
    outputPrefix: paths.output,
    rawOutputDataPrefix: paths.raw,
    checkpointOutputPrefix: `${paths.raw}/_flytecheckpoints`,
    // In Docker, a local store is mounted at its own path: the same path reaches the checkpoint.
    prevCheckpointPrefix: prev === undefined ? '""' : toTaskUri(prev),
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

async function runContainer(ctx: TaskContext, docker: DockerTarget | undefined): Promise<TaskResult> {
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
  const place = outputPlace(io, c, ctx.workDir);
  const dirs: Dirs = place.dirs;
  let values: LiteralMap;
  try {
    values = await resolveOffloaded(io.store, ctx.inputs);
  } catch (err) {
    if (!(err instanceof OffloadedLiteralError)) throw err;
    return { ok: false, error: userError("OffloadedLiteralUnreadable", err.message) };
  }
  const mounts = docker === undefined ? undefined : dockerMounts(c, dirs, localPath(io.store.root));
  const paths = mounts?.paths ?? dirs;
  let rendered: string[];
  try {
    const vars = attemptVars(ctx, io, paths);
    rendered = renderArgs([...c.command, ...c.args], c, values, vars, paths, docker === undefined);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    return { ok: false, error: userError("BadTaskSpecification", err.message), permanent: true };
  }
  // A task finds its places only through its arguments (Flyte gives no other way): a place its command does not
  // name is not prepared for it, unless data_config asks for files or Docker mounts them.
  const all = docker !== undefined || c.dataConfig?.enabled === true;
  const named = (dir: string) => all || rendered.some((arg) => arg.includes(dir));
  place.make(named);
  if (named(dirs.input)) {
    await writeInputs(dirs, ctx.inputsFile ?? ctx.inputs, values, c, io);
    fs.writeFileSync(path.join(dirs.input, "task.pb"), toBinary(TaskTemplateSchema, ctx.template));
  }
  if (rendered.length === 0)
    return {
      ok: false,
      error: userError("BadTaskSpecification", "container has no command or args"),
      permanent: true,
    };
  const taskEnv: Record<string, string> = {};
  for (const kv of c.env) taskEnv[kv.key] = kv.value;
  Object.assign(taskEnv, ctx.envs);
  const secretsDir = placeSecretFiles(ctx, mounts?.binds);
  if (secretsDir !== undefined) taskEnv.FLYTE_SECRETS_DEFAULT_DIR = secretsDir;
  const r =
    docker === undefined || mounts === undefined
      ? await runProcess(ctx, rendered, taskEnv)
      : await runDockerContainer(docker.api, {
          name: containerName(ctx, ctx.attempt),
          leftovers: leftoverContainers(ctx, ctx.attempt),
          spec: containerSpec(c, rendered, taskEnv, mounts.binds, {
            [LABEL.execution]: `${ctx.project ?? ""}/${ctx.domain ?? ""}/${ctx.executionName}`,
            [LABEL.node]: ctx.nodeId,
            [LABEL.attempt]: String(ctx.attempt),
            [LABEL.owner]: docker.owner,
          }),
          signal: ctx.signal,
          ...(ctx.logs === undefined ? {} : { logs: ctx.logs }),
        });
  const logs = { stdout: r.stdout, stderr: r.stderr };
  if (ctx.signal.aborted) return { ok: false, error: userError("Aborted", "the task was stopped"), logs };
  if ("spawnError" in r && r.spawnError !== undefined)
    return {
      ok: false,
      error: userError("CommandNotFound", `cannot start ${rendered[0]}: ${r.spawnError.message}`),
      logs,
    };
  if ("lost" in r && r.lost !== undefined)
    return {
      ok: false,
      error: create(ExecutionErrorSchema, {
        code: "TaskSpawnerLost",
        message: r.lost,
        kind: ExecutionError_ErrorKind.SYSTEM,
      }),
      logs,
    };
  if ("failure" in r && r.failure !== undefined) return { ok: false, error: r.failure, logs };
  if ("oomKilled" in r && r.oomKilled)
    return { ok: false, error: userError("OOMKilled", "the task's container ran out of memory"), logs };
  if (r.code !== 0) return { ok: false, error: exitFailure(r), logs };
  const done = await readCompletion(ctx, place, logs);
  return done;
}

/** Where the task finds its secret files (written into the attempt's directory; mounted in Docker), if any. */
function placeSecretFiles(ctx: TaskContext, binds: string[] | undefined): string | undefined {
  const files = ctx.secretFiles ?? {};
  if (Object.keys(files).length === 0) return undefined;
  const dir = path.join(ctx.workDir, "secrets");
  writeSecretFiles(dir, files, binds !== undefined);
  if (binds === undefined) return dir;
  binds.push(`${dir}:${DOCKER_SECRETS_DIR}:ro`);
  return DOCKER_SECRETS_DIR;
}

/** Runs the task as a process group of its own, with only the environment Flyte gives a task. */
function runProcess(ctx: TaskContext, argv: readonly string[], taskEnv: Record<string, string>) {
  return runInProcessGroup(argv, {
    cwd: ctx.workDir,
    env: { PATH: ctx.envs.PATH ?? DEFAULT_PATH, HOME: ctx.workDir, ...taskEnv },
    signal: ctx.signal,
    graceMs: KILL_GRACE_MS,
    ...(ctx.logs === undefined
      ? {}
      : { onOutput: (s: "stdout" | "stderr", d: Buffer) => ctx.logs?.write(s, d) }),
  });
}
