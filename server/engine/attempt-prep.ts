// What a task attempt starts with: its inputs, secrets, places in the blob store, the checkpoint it resumes from
// and its log writer (whose links go on the attempt's events) — gathered the same way whether the attempt runs from
// a claimed work item (task-runner.ts) or handed over by the transaction that started its node (handed-attempts.ts).
import { fromBinary } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import { ExecutionMetadata_ExecutionMode } from "../../gen/flyteidl/admin/execution_pb.js";
import { NodeExecutionClosureSchema } from "../../gen/flyteidl/admin/node_execution_pb.js";
import type { TaskLog } from "../../gen/flyteidl/core/execution_pb.js";
import type { Identifier } from "../../gen/flyteidl/core/identifier_pb.js";
import type { LiteralMap } from "../../gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import { type ExecutionRow, getExecution } from "../repositories/execution-repo.js";
import { getNodeExecution, type NodeExecutionRow } from "../repositories/node-execution-repo.js";
import type { WorkItemRow } from "../repositories/work-repo.js";
import { decodeExecSpec, executionKey } from "../transformers/execution.js";
import { decodeLiteralMap } from "../transformers/literals.js";
import { type AttemptSpec, attemptEnv, attemptPlaces } from "./attempt-spec.js";
import type { EngineContext } from "./engine-context.js";
import type { TaskContext, TaskResult } from "./plugins/plugin.js";
import { userError } from "./plugins/task-results.js";
import type { AttemptRecord } from "./record-result.js";
import { runPlugin } from "./run-attempt.js";
import { AttemptLogWriter, attemptLogLinks } from "./task-log-store.js";
import { SecretError, type SecretSource, type TaskSecrets, taskSecrets } from "./task-secrets.js";

export interface PreparedAttempt {
  readonly record: AttemptRecord;
  /** A container task: its stdout/stderr go to the store as they come, and its log links on its RUNNING event. */
  readonly container: boolean;
  readonly logLinks: TaskLog[];
  readonly logs: AttemptLogWriter;
  /** What the plugin gets, or the failure that ends the attempt before it runs (a secret it cannot have). */
  readonly start: Omit<TaskContext, "signal" | "workDir"> | { readonly failure: TaskResult };
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
async function previousCheckpoint(
  ctx: EngineContext,
  db: Knex,
  exec: ExecutionRow,
  nodeId: string,
  attempt: number,
) {
  if (attempt > 0) return attemptPlaces(ctx, exec, nodeId, attempt - 1).checkpoint;
  const spec = decodeExecSpec(exec);
  const ref = spec.metadata?.referenceExecution;
  if (spec.metadata?.mode !== ExecutionMetadata_ExecutionMode.RECOVERED || ref === undefined)
    return undefined;
  const original = await getExecution(db, ref);
  const node = original === undefined ? undefined : await getNodeExecution(db, original.id, nodeId);
  if (node === undefined) return undefined;
  const tm = fromBinary(NodeExecutionClosureSchema, node.closure).targetMetadata;
  return tm.case === "taskNodeMetadata" && tm.value.checkpointUri !== "" ? tm.value.checkpointUri : undefined;
}

/**
 * Gathers what attempt `attempt` of the node's task needs; blobs are read with `read`. `inputs`, when the caller
 * has them decoded, saves reading the node's.
 */
export async function prepareAttempt(
  ctx: EngineContext,
  db: Knex,
  exec: ExecutionRow,
  node: Pick<NodeExecutionRow, "node_id" | "input_uri">,
  spec: AttemptSpec & { readonly ref: Identifier; readonly template: TaskTemplate },
  attempt: number,
  read: (uri: string) => Promise<Uint8Array | undefined>,
  inputs?: LiteralMap,
): Promise<PreparedAttempt> {
  const { ref, template } = spec;
  const nodeId = node.node_id;
  const record: AttemptRecord = {
    item: { execution_id: exec.id, node_id: nodeId, attempt },
    ref,
    template,
    ...(spec.node === undefined ? {} : { node: spec.node }),
  };
  const container = ctx.plugins(template)?.name.startsWith("container-") === true;
  const logLinks = attemptLogLinks(ctx.logBaseUrl, executionKey(exec), nodeId, attempt);
  const logs = AttemptLogWriter.forAttempt(
    ctx.data.blobs,
    ctx.data.root,
    executionKey(exec),
    nodeId,
    attempt,
    (err) =>
      ctx.logger.warn("writing a task's log to the store failed", { executionId: exec.id, error: err }),
  );
  const prepared = { record, container, logLinks, logs };
  const secrets = secretsOf(template, ctx.options.secrets);
  if (secrets instanceof SecretError) {
    const failure: TaskResult = {
      ok: false,
      error: userError("SecretNotFound", secrets.message),
      permanent: true,
    };
    return { ...prepared, start: { failure } };
  }
  const decode = async (uri: string) => decodeLiteralMap(uri === "" ? undefined : await read(uri));
  const element = spec.element;
  const inputsFile =
    element !== undefined && element.inputUri !== node.input_uri ? await decode(element.inputUri) : undefined;
  const places = attemptPlaces(ctx, exec, nodeId, attempt);
  const prev = await previousCheckpoint(ctx, db, exec, nodeId, attempt);
  const start: Omit<TaskContext, "signal" | "workDir"> = {
    template,
    inputs: inputs ?? (await decode(node.input_uri)),
    ...(inputsFile === undefined ? {} : { inputsFile }),
    executionName: exec.execution_name,
    project: exec.execution_project,
    domain: exec.execution_domain,
    nodeId,
    attempt,
    envs: { ...attemptEnv(exec, spec, ref, attempt, ctx.options.taskEnv), ...secrets.env },
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
  };
  return { ...prepared, start };
}

/** Runs the prepared attempt's plugin under its leased work item (or ends it with the failure found preparing it). */
export function runPrepared(
  ctx: EngineContext,
  p: PreparedAttempt,
  item: Pick<WorkItemRow, "id">,
  owner: string,
): Promise<TaskResult> {
  if ("failure" in p.start) return Promise.resolve(p.start.failure);
  return runPlugin(ctx, { ...p.record.item, id: item.id }, owner, p.record.template, p.start);
}
