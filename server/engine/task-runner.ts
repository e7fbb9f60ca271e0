// Runs one task attempt claimed from the queue: the plugin runs under a heartbeated lease (run-attempt.ts) with the
// environment and places Flyte gives a task (attempt-spec.ts), and the result is recorded by record-result.ts.
import { fromBinary } from "@bufbuild/protobuf";
import { ExecutionMetadata_ExecutionMode } from "../../gen/flyteidl/admin/execution_pb.js";
import { NodeExecutionClosureSchema } from "../../gen/flyteidl/admin/node_execution_pb.js";
import { TaskExecution_Phase as TaskPhase } from "../../gen/flyteidl/core/execution_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import { type ExecutionRow, getExecution } from "../repositories/execution-repo.js";
import { getNodeExecution } from "../repositories/node-execution-repo.js";
import { getTaskExecution } from "../repositories/task-execution-repo.js";
import { completeWork, releaseWork, type WorkItemRow } from "../repositories/work-repo.js";
import {
  decodeExecSpec,
  executionKey,
  TERMINAL_WORKFLOW_PHASES,
  workflowPhase,
} from "../transformers/execution.js";
import { decodeLiteralMap } from "../transformers/literals.js";
import { attemptEnv, attemptPlaces, taskOf } from "./attempt-spec.js";
import type { EngineContext } from "./engine-context.js";
import { userError } from "./plugins/task-results.js";
import { type AttemptRecord, recordFailure, recordResult } from "./record-result.js";
import { runPlugin, systemError } from "./run-attempt.js";
import { AttemptLogWriter, attemptLogLinks } from "./task-log-store.js";
import { SecretError, type SecretSource, type TaskSecrets, taskSecrets } from "./task-secrets.js";

/**
 * The attempt was RUNNING on a replica that stopped heartbeating (crashed or lost): a system failure. It is recorded
 * as such and the task runs again as the next attempt, within the budget of system retries.
 */
export async function retryLostAttempt(ctx: EngineContext, a: AttemptRecord): Promise<void> {
  const { item, owner } = a;
  await ctx.transaction(async (trx) => {
    const exec = await ctx.lockExecution(trx, item.execution_id);
    if (!(await completeWork(trx, item.id, owner)) || exec === undefined) return;
    const node = await ctx.batch(trx).storedNode(exec.id, item.node_id);
    if (node === undefined) return;
    const error = systemError(
      "LostWorker",
      `attempt ${item.attempt} stopped reporting (its replica was lost); retrying`,
    );
    await recordFailure(ctx, trx, exec, node, a, { error });
  });
}

/** The secrets the task asks for, or why it cannot have them. */
function secretsOf(template: TaskTemplate, source: SecretSource | undefined): TaskSecrets | SecretError {
  try {
    return taskSecrets(template, source ?? {});
  } catch (err) {
    if (err instanceof SecretError) return err;
    throw err;
  }
}

/** The checkpoint an attempt resumes from: the previous attempt's, or for a first attempt the recovered node's. */
async function previousCheckpoint(ctx: EngineContext, exec: ExecutionRow, nodeId: string, attempt: number) {
  if (attempt > 0) return attemptPlaces(ctx, exec, nodeId, attempt - 1).checkpoint;
  const spec = decodeExecSpec(exec);
  const ref = spec.metadata?.referenceExecution;
  if (spec.metadata?.mode !== ExecutionMetadata_ExecutionMode.RECOVERED || ref === undefined)
    return undefined;
  const original = await getExecution(ctx.db, ref);
  const node = original === undefined ? undefined : await getNodeExecution(ctx.db, original.id, nodeId);
  if (node === undefined) return undefined;
  const tm = fromBinary(NodeExecutionClosureSchema, node.closure).targetMetadata;
  return tm.case === "taskNodeMetadata" && tm.value.checkpointUri !== "" ? tm.value.checkpointUri : undefined;
}

export async function runTaskItem(ctx: EngineContext, item: WorkItemRow, owner: string): Promise<void> {
  const exec = await ctx.db("executions").where({ id: item.execution_id }).first();
  const node = exec === undefined ? undefined : await getNodeExecution(ctx.db, exec.id, item.node_id);
  if (
    exec === undefined ||
    node === undefined ||
    TERMINAL_WORKFLOW_PHASES.has(workflowPhase(exec.phase)) ||
    node.phase !== "RUNNING"
  ) {
    await completeWork(ctx.db, item.id, owner);
    return;
  }
  const spec = await taskOf(ctx, ctx.db, exec.workflow_id, exec.id, item.node_id);
  const { ref, node: nodeSpec } = spec;
  // An array element runs the element's template (a map task's list outputs narrowed to the element's types).
  const template = spec.element?.template ?? spec.template;
  if (ref === undefined || template === undefined)
    throw new Error(`task of node ${item.node_id} not found in the compiled workflow`);
  const attempt: AttemptRecord = {
    item,
    owner,
    ref,
    template,
    ...(nodeSpec === undefined ? {} : { node: nodeSpec }),
  };
  const key = {
    node_execution_id: node.id,
    project: ref.project,
    domain: ref.domain,
    name: ref.name,
    version: ref.version,
    retry_attempt: item.attempt,
  };
  if ((await getTaskExecution(ctx.db, key))?.phase === "RUNNING") {
    await retryLostAttempt(ctx, attempt);
    return;
  }
  // A container task's stdout/stderr go to the store as they come; its links are on the RUNNING event already.
  const container = ctx.plugins(template)?.name.startsWith("container-") === true;
  const logLinks = attemptLogLinks(ctx.logBaseUrl, executionKey(exec), item.node_id, item.attempt);
  const logs = AttemptLogWriter.forAttempt(
    ctx.data.blobs,
    ctx.data.root,
    executionKey(exec),
    item.node_id,
    item.attempt,
    (err) => ctx.logger.warn("writing a task's log to the store failed", { error: err }),
  );
  if (container) await logs.open();
  await ctx.transaction(async (trx) => {
    const locked = await ctx.lockExecution(trx, exec.id);
    if (locked !== undefined) {
      await ctx.taskEvent(trx, locked, item.node_id, ref, item.attempt, TaskPhase.RUNNING, {
        taskType: template.type,
        ...(container ? { logs: logLinks } : {}),
      });
      ctx.batch(trx).notifyWatchers(locked.id);
    }
  });
  const read = async (uri: string) =>
    decodeLiteralMap(uri === "" ? undefined : await ctx.data.get(ctx.db, uri));
  const inputs = await read(node.input_uri);
  const element = spec.element;
  const inputsFile =
    element !== undefined && element.inputUri !== node.input_uri ? await read(element.inputUri) : undefined;
  const secrets = secretsOf(template, ctx.options.secrets);
  if (secrets instanceof SecretError) {
    await logs.close();
    const error = userError("SecretNotFound", secrets.message);
    await recordResult(ctx, attempt, { ok: false, error, permanent: true }, async () =>
      container ? logLinks : [],
    );
    return;
  }
  const places = attemptPlaces(ctx, exec, item.node_id, item.attempt);
  const prev = await previousCheckpoint(ctx, exec, item.node_id, item.attempt);
  const result = await runPlugin(ctx, item, owner, template, {
    template,
    inputs,
    ...(inputsFile === undefined ? {} : { inputsFile }),
    executionName: exec.execution_name,
    project: exec.execution_project,
    domain: exec.execution_domain,
    nodeId: item.node_id,
    attempt: item.attempt,
    envs: { ...attemptEnv(exec, spec, ref, item.attempt, ctx.options.taskEnv), ...secrets.env },
    secretFiles: secrets.files,
    io: {
      store: ctx.data.blobs,
      inputUri: node.input_uri,
      outputPrefix: places.outputPrefix,
      rawPrefix: places.rawPrefix,
      uniqueKey: places.uniqueKey,
      ...(prev === undefined ? {} : { prevCheckpointPrefix: prev }),
    },
    ...(container ? { logs } : {}),
  }).catch(async (err: unknown) => {
    await logs.close();
    throw err;
  });
  const logged = container || result.logs !== undefined;
  if (logged) await logs.close(result.logs);
  if (ctx.stopping && !result.ok) {
    // Interrupted because this engine stops, not failed: the attempt goes back to the queue. The next engine sees
    // it RUNNING and runs it again as a lost attempt (a system retry).
    await releaseWork(ctx.db, item.id, owner).catch((err: unknown) =>
      ctx.logger.warn("handing an interrupted attempt back failed; its lease will expire", { error: err }),
    );
    return;
  }
  await recordResult(ctx, attempt, result, async () => (logged ? logLinks : []));
}
