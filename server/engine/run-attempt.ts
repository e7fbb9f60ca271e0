// Runs one task attempt's plugin: in a directory of its own under this engine's, with its timeout, aborted when its
// lease is lost or its node stops running (checked by a heartbeat that also renews the lease).
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { ExecutionError_ErrorKind, ExecutionErrorSchema } from "../../gen/flyteidl/core/execution_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import type { Logger } from "../logger.js";
import { publishAttempt } from "../metrics/engine-events.js";
import { getNodeExecution } from "../repositories/node-execution-repo.js";
import { extendLease, type WorkItemRow } from "../repositories/work-repo.js";
import type { EngineContext } from "./engine-context.js";
import { durationMs } from "./gates.js";
import { setLongTimeout } from "./long-timer.js";
import type { TaskContext, TaskResult } from "./plugins/plugin.js";

/** A node id as one directory name: as is when plainly safe, else a digest (ids are not trusted as paths). */
export function pathSegment(id: string): string {
  if (/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$/.test(id) && !id.includes("..")) return id;
  return `n-${createHash("sha256").update(id).digest("hex").slice(0, 24)}`;
}

export const systemError = (code: string, message: string) =>
  create(ExecutionErrorSchema, { code, message, kind: ExecutionError_ErrorKind.SYSTEM });

function timeoutMs(template: TaskTemplate): number | undefined {
  const ms = durationMs(template.metadata?.timeout);
  return ms > 0 ? ms : undefined;
}

export async function runPlugin(
  ctx: EngineContext,
  item: Pick<WorkItemRow, "id" | "execution_id" | "node_id" | "attempt">,
  owner: string,
  template: TaskTemplate,
  base: Omit<TaskContext, "signal" | "workDir">,
): Promise<TaskResult> {
  const plugin = ctx.plugins({ type: template.type, target: { case: template.target.case } });
  if (plugin === undefined) {
    return {
      ok: false,
      error: systemError("NoPlugin", `no task plugin handles task type [${template.type}]`),
    };
  }
  // Under this engine's own directory (another server on this machine has the same ids), one directory per attempt
  // (the node id as a safe name).
  const workDir = path.join(
    ctx.options.workRoot,
    owner,
    `${item.execution_id}-${item.attempt}-${pathSegment(item.node_id)}`,
  );
  try {
    fs.mkdirSync(workDir, { recursive: true });
  } catch (err) {
    ctx.logger.error("cannot create a task attempt's directory", {
      executionId: item.execution_id,
      directory: workDir,
      error: err,
    });
    return {
      ok: false,
      error: systemError("WorkDirectoryFailed", "the task's work directory could not be created"),
    };
  }
  const abort = new AbortController();
  const key = `${item.execution_id}/${item.node_id}`;
  ctx.running.set(key, abort);
  const limit = timeoutMs(template);
  let timedOut = false;
  const cancelTimer =
    limit === undefined
      ? undefined
      : setLongTimeout(() => {
          timedOut = true;
          abort.abort();
        }, limit);
  const heartbeat = setInterval(
    () => {
      void (async () => {
        const owned = await extendLease(ctx.db, item.id, owner, ctx.options.leaseMs).catch(() => true);
        const node = await getNodeExecution(ctx.db, item.execution_id, item.node_id).catch(() => undefined);
        if (!owned || (node !== undefined && node.phase !== "RUNNING")) abort.abort();
      })();
    },
    Math.max(200, Math.floor(ctx.options.leaseMs / 3)),
  );
  try {
    const result = await plugin.run({ ...base, signal: abort.signal, workDir });
    const outcome = timedOut
      ? "timed_out"
      : result.ok
        ? "succeeded"
        : ctx.stopping
          ? "interrupted"
          : "failed";
    publishAttempt({ plugin: plugin.name, outcome });
    if (timedOut) {
      return {
        ok: false,
        error: create(ExecutionErrorSchema, {
          code: "TaskTimedOut",
          message: `task exceeded its timeout of ${limit} ms`,
          kind: ExecutionError_ErrorKind.USER,
        }),
      };
    }
    return result;
  } finally {
    clearInterval(heartbeat);
    cancelTimer?.();
    ctx.running.delete(key);
    removeWorkDir(workDir, ctx.logger);
  }
}

/**
 * Removes an attempt's directory without stalling the event loop on it: moved aside at once (one rename, so the
 * path is free again), its contents then removed on the thread pool. A task may leave thousands of files behind.
 */
export function removeWorkDir(workDir: string, logger: Pick<Logger, "warn">): void {
  let doomed = `${workDir}.removing-${randomBytes(6).toString("hex")}`;
  try {
    fs.renameSync(workDir, doomed);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    doomed = workDir;
  }
  fs.promises.rm(doomed, { recursive: true, force: true }).catch((error: unknown) => {
    logger.warn("cannot remove a task attempt's directory", { directory: doomed, error });
  });
}
