// What a container task left under its output prefix after a zero exit, read in Flyte's order: `error.pb` (a failure
// the task classified itself), else `futures.pb` (a dynamic sub-graph), else its outputs (outputs.pb, outputs.json or
// one file per declared output). A deck (`deck.html`) is reported whichever it was.
import fs from "node:fs";
import path from "node:path";
import { create, fromBinary } from "@bufbuild/protobuf";
import { DynamicJobSpecSchema } from "../../../gen/flyteidl/core/dynamic_job_pb.js";
import { ContainerError_Kind, ErrorDocumentSchema } from "../../../gen/flyteidl/core/errors_pb.js";
import {
  type ExecutionError,
  ExecutionError_ErrorKind,
  ExecutionErrorSchema,
} from "../../../gen/flyteidl/core/execution_pb.js";
import { type Literal, type LiteralMap, LiteralMapSchema } from "../../../gen/flyteidl/core/literals_pb.js";
import { type Plain, plainToLiteral } from "../../transformers/plain-values.js";
import type { TaskContext, TaskLogs, TaskResult } from "./plugin.js";
import { keepBlobOutput, type OutputPlace } from "./task-io.js";

export const userError = (code: string, message: string): ExecutionError =>
  create(ExecutionErrorSchema, { code, message, kind: ExecutionError_ErrorKind.USER });

/** Outputs from outputs.pb, else outputs.json, else one file per declared output (blob URIs as the store names them). */
export async function readOutputs(
  ctx: TaskContext,
  place: Pick<OutputPlace, "read" | "fromTask" | "dirs">,
): Promise<{ outputs?: LiteralMap; error?: ExecutionError }> {
  const declared = ctx.template.interface?.outputs?.variables ?? {};
  const pb = await place.read("outputs.pb");
  if (pb !== undefined) {
    try {
      return { outputs: fromBinary(LiteralMapSchema, pb) };
    } catch {
      return { error: userError("OutputsParseError", "outputs.pb is not a LiteralMap") };
    }
  }
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

/**
 * The failure an `error.pb` describes: its code and message, its origin as the kind (USER/SYSTEM), and whether a
 * retry may help (RECOVERABLE). An unreadable document is a retryable user failure.
 */
export function errorFromDocument(bytes: Uint8Array): { error: ExecutionError; permanent: boolean } {
  let doc: ReturnType<typeof fromBinary<typeof ErrorDocumentSchema>>;
  try {
    doc = fromBinary(ErrorDocumentSchema, bytes);
  } catch {
    return {
      error: userError("ErrorDocumentUnreadable", "the task wrote an error.pb that is not an ErrorDocument"),
      permanent: false,
    };
  }
  const e = doc.error;
  const error = create(ExecutionErrorSchema, {
    code: e?.code ?? "",
    message: e?.message ?? "",
    kind: e?.origin ?? ExecutionError_ErrorKind.UNKNOWN,
    ...(e?.timestamp !== undefined ? { timestamp: e.timestamp } : {}),
    worker: e?.worker ?? "",
  });
  return {
    error,
    permanent: (e?.kind ?? ContainerError_Kind.NON_RECOVERABLE) === ContainerError_Kind.NON_RECOVERABLE,
  };
}

/** Where the deck the task wrote is, if it wrote one (or declared one: a declared deck that is missing is dropped). */
async function deckOf(ctx: TaskContext, place: OutputPlace): Promise<string | undefined> {
  if (ctx.io === undefined) return undefined;
  const uri = `${ctx.io.outputPrefix}/deck.html`;
  return (await place.exists("deck.html")) ? uri : undefined;
}

/** The result of an attempt whose process exited 0. */
export async function readCompletion(
  ctx: TaskContext,
  place: OutputPlace,
  logs: TaskLogs,
): Promise<TaskResult> {
  const deckUri = await deckOf(ctx, place);
  const artifacts = { logs, ...(deckUri === undefined ? {} : { deckUri }) };
  const errorDoc = await place.read("error.pb");
  if (errorDoc !== undefined) return { ok: false, ...errorFromDocument(errorDoc), ...artifacts };
  const futures = await place.read("futures.pb");
  if (futures !== undefined && ctx.io !== undefined) {
    try {
      const dynamic = fromBinary(DynamicJobSpecSchema, futures);
      return { ok: true, dynamic, futuresUri: `${ctx.io.outputPrefix}/futures.pb`, ...artifacts };
    } catch {
      const error = userError("DynamicWorkflowBuildFailed", "futures.pb is not a DynamicJobSpec");
      return { ok: false, error, permanent: true, ...artifacts };
    }
  }
  const read = await readOutputs(ctx, place);
  if (read.error !== undefined) return { ok: false, error: read.error, ...artifacts };
  await place.keep();
  return { ok: true, outputs: read.outputs ?? create(LiteralMapSchema), ...artifacts };
}
