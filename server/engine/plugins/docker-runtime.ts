// Container tasks in Docker, through the Engine API (docker-api.ts): the image is pulled when the daemon lacks it;
// the container gets the task's CPU and memory limits (container-resources.ts), the attempt's directories, and, with
// the local blob store, the whole store read-only at its own path (blob URIs and fast-registered archives are paths
// under it) with the attempt's output directory and raw sandbox writable at their own paths, so the paths a task
// sees are the paths the engine and later tasks read. Output is streamed to the attempt's log sink. Stopping the
// attempt (terminate, timeout) stops the container (SIGTERM, SIGKILL after a grace period); the container is removed
// once it ended. Containers carry labels naming their execution, node, attempt and engine (petrel.*), by which a
// restarted engine finds those a lost one left (docker-sweeper.ts).
import { createHash } from "node:crypto";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  type ExecutionError,
  ExecutionError_ErrorKind,
  ExecutionErrorSchema,
} from "../../../gen/flyteidl/core/execution_pb.js";
import type { Container } from "../../../gen/flyteidl/core/tasks_pb.js";
import { dockerLimits } from "./container-resources.js";
import { type DockerApi, DockerApiError, demultiplex, readText } from "./docker-api.js";
import type { LogSink, TaskContext } from "./plugin.js";
import { userError } from "./task-results.js";

export const LABEL = {
  execution: "petrel.execution",
  node: "petrel.node",
  attempt: "petrel.attempt",
  owner: "petrel.owner",
} as const;

const STOP_GRACE_S = 2;
const TAIL = 4000;
/** How long the log stream may lag behind the container's exit. */
const LOG_DRAIN_MS = 5_000;

interface Dirs {
  readonly input: string;
  readonly output: string;
  readonly raw: string;
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

/** The containers of this attempt and the earlier ones, removed before the attempt starts. */
export function leftoverContainers(ctx: Parameters<typeof containerName>[0], attempt: number): string[] {
  return Array.from({ length: attempt + 1 }, (_, a) => containerName(ctx, a));
}

/**
 * The paths the task sees and the binds that give them: inputs at data_config's input path (else
 * /var/flyte/inputs); outputs at data_config's output path, else where they are kept; the raw sandbox where it is
 * kept; a local store (`storeDir`) read-only at its own path. Prefixes that are not local paths (s3://) stay URIs.
 */
export function dockerMounts(c: Container, dirs: Dirs, storeDir: string | undefined) {
  const dc = c.dataConfig?.enabled === true ? c.dataConfig : undefined;
  const binds: string[] = storeDir === undefined ? [] : [`${storeDir}:${storeDir}:ro`];
  const place = (host: string, inside: string) => {
    if (path.isAbsolute(host)) binds.push(`${host}:${inside}`);
    return inside;
  };
  const paths: Dirs = {
    input: place(dirs.input, dc !== undefined && dc.inputPath !== "" ? dc.inputPath : "/var/flyte/inputs"),
    output: place(dirs.output, dc !== undefined && dc.outputPath !== "" ? dc.outputPath : dirs.output),
    raw: place(dirs.raw, dirs.raw),
  };
  return { paths, binds };
}

/** What `POST /containers/create` gets for an attempt. */
export function containerSpec(
  c: Container,
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  binds: readonly string[],
  labels: Readonly<Record<string, string>>,
) {
  const command = c.command.length > 0;
  return {
    Image: c.image,
    ...(command ? { Entrypoint: argv.slice(0, 1), Cmd: argv.slice(1) } : { Cmd: [...argv] }),
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: { ...labels },
    HostConfig: { Binds: [...binds], ...dockerLimits(c.resources).limits },
  };
}

export interface DockerRun {
  /** The exit code; null when the container did not run to its end. */
  readonly code: number | null;
  readonly oomKilled: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** Why the attempt could not run its container (pull, create, daemon). */
  readonly failure?: ExecutionError;
}

const systemError = (code: string, message: string) =>
  create(ExecutionErrorSchema, { code, message, kind: ExecutionError_ErrorKind.SYSTEM });

const failed = (failure: ExecutionError): DockerRun => ({
  code: null,
  oomKilled: false,
  stdout: "",
  stderr: "",
  failure,
});

/** The daemon's error as a task failure: `code` for its own refusals, DockerUnavailable when it cannot be reached. */
function asFailure(err: unknown, code: string, what: string): ExecutionError {
  if (err instanceof DockerApiError) return userError(code, `${what}: ${err.message}`);
  return systemError("DockerUnavailable", `${what}: ${(err as Error).message}`);
}

/** Makes sure the daemon has the image; a failed pull is the task's failure (ImagePullFailed). */
async function ensureImage(
  api: DockerApi,
  image: string,
  signal: AbortSignal,
): Promise<ExecutionError | undefined> {
  try {
    if (await api.hasImage(image)) return undefined;
    await api.pullImage(image, signal);
    return undefined;
  } catch (err) {
    if (signal.aborted) return userError("Aborted", "the task was stopped");
    return asFailure(err, "ImagePullFailed", `cannot pull image "${image}"`);
  }
}

/** Runs one attempt's container to its end (or until `signal` stops it) and removes it. */
export async function runDockerContainer(
  api: DockerApi,
  a: {
    readonly name: string;
    readonly leftovers: readonly string[];
    readonly spec: ReturnType<typeof containerSpec>;
    readonly signal: AbortSignal;
    readonly logs?: LogSink;
  },
): Promise<DockerRun> {
  try {
    for (const n of a.leftovers) await api.removeContainer(n);
  } catch (err) {
    return failed(asFailure(err, "DockerUnavailable", "cannot remove an earlier container"));
  }
  const pullFailure = await ensureImage(api, a.spec.Image, a.signal);
  if (pullFailure !== undefined) return failed(pullFailure);
  let id: string;
  try {
    ({ Id: id } = await api.json<{ Id: string }>(
      "POST",
      `/containers/create?name=${encodeURIComponent(a.name)}`,
      {
        body: a.spec,
      },
    ));
  } catch (err) {
    return failed(asFailure(err, "ContainerCreateFailed", "cannot create the task's container"));
  }
  const tails = { stdout: "", stderr: "" };
  const stop = () => void api.json("POST", `/containers/${id}/stop?t=${STOP_GRACE_S}`).catch(() => undefined);
  try {
    // Waiting from before the start: the daemon answers the headers once it waits, so no exit can be missed.
    const waiting = await api.request("POST", `/containers/${id}/wait?condition=next-exit`);
    if (a.signal.aborted) return { ...failed(userError("Aborted", "the task was stopped")) };
    await api.json("POST", `/containers/${id}/start`);
    // Stopped while it started: stopped now.
    if (a.signal.aborted) stop();
    else a.signal.addEventListener("abort", stop, { once: true });
    const logs = api.request("GET", `/containers/${id}/logs?follow=1&stdout=1&stderr=1`).then((res) => {
      const split = demultiplex((stream, data) => {
        a.logs?.write(stream, data);
        tails[stream] = (tails[stream] + data.toString("utf8")).slice(-TAIL);
      });
      res.on("data", split);
      return new Promise<void>((resolve) => res.once("close", resolve).once("end", resolve));
    });
    const exit = JSON.parse(await readText(await waiting)) as { StatusCode: number };
    await Promise.race([
      logs.catch(() => undefined),
      new Promise((r) => setTimeout(r, LOG_DRAIN_MS).unref()),
    ]);
    const state = await api.inspectContainer(id).then(
      (i) => i.State,
      () => undefined,
    );
    return { code: exit.StatusCode, oomKilled: state?.OOMKilled === true, ...tails };
  } catch (err) {
    if (a.signal.aborted) return { code: null, oomKilled: false, ...tails };
    return { ...failed(asFailure(err, "ContainerFailed", "the task's container failed")), ...tails };
  } finally {
    a.signal.removeEventListener("abort", stop);
    await api.removeContainer(id).catch(() => undefined);
  }
}
