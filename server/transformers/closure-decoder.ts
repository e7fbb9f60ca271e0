// Decodes a compiled workflow closure in steps: the nodes of each workflow template and the entries of its
// connection maps are decoded a few hundred at a time, with `pause()` between steps, so reading the closure of a
// workflow of thousands of nodes (tens of milliseconds at once) never holds the event loop for long. The result is
// the message fromBinary gives (serialized messages concatenate into one: the heavy fields are merged in).
import { type DescMessage, fromBinary, type MessageShape, mergeFromBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import {
  type CompiledWorkflow,
  type CompiledWorkflowClosure,
  CompiledWorkflowClosureSchema,
  CompiledWorkflowSchema,
  ConnectionSetSchema,
} from "../../gen/flyteidl/core/compiler_pb.js";
import { WorkflowTemplateSchema } from "../../gen/flyteidl/core/workflow_pb.js";

/** Occurrences of the heavy fields decoded per step. */
const STEP = 256;

interface Split {
  /** Every other field, as encoded. */
  readonly rest: Uint8Array;
  /** Each occurrence of the chosen fields, tag included, in order. */
  readonly chosen: Uint8Array[];
  /** Payloads of the chosen length-delimited fields, by field number. */
  readonly payloads: Map<number, Uint8Array[]>;
}

function split(bytes: Uint8Array, fields: ReadonlySet<number>): Split {
  const reader = new BinaryReader(bytes);
  const rest: Uint8Array[] = [];
  const chosen: Uint8Array[] = [];
  const payloads = new Map<number, Uint8Array[]>();
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [no, type] = reader.tag();
    if (fields.has(no) && type === WireType.LengthDelimited) {
      const payload = reader.bytes();
      const list = payloads.get(no);
      if (list === undefined) payloads.set(no, [payload]);
      else list.push(payload);
      chosen.push(bytes.subarray(start, reader.pos));
    } else {
      reader.skip(type, no);
      rest.push(bytes.subarray(start, reader.pos));
    }
  }
  return { rest: Buffer.concat(rest), chosen, payloads };
}

/** `schema` from `bytes`, with the occurrences of `heavy` fields merged in STEP at a time. */
async function decodeInSteps<Desc extends DescMessage>(
  schema: Desc,
  bytes: Uint8Array,
  heavy: ReadonlySet<number>,
  pause: () => Promise<void>,
): Promise<MessageShape<Desc>> {
  const parts = split(bytes, heavy);
  const message = fromBinary(schema, parts.rest);
  for (let i = 0; i < parts.chosen.length; i += STEP) {
    if (i > 0) await pause();
    mergeFromBinary(schema, message, Buffer.concat(parts.chosen.slice(i, i + STEP)));
  }
  return message;
}

async function decodeWorkflow(bytes: Uint8Array, pause: () => Promise<void>): Promise<CompiledWorkflow> {
  const parts = split(bytes, new Set([1, 2]));
  const workflow = fromBinary(CompiledWorkflowSchema, parts.rest);
  const template = parts.payloads.get(1)?.at(-1);
  if (template !== undefined)
    workflow.template = await decodeInSteps(WorkflowTemplateSchema, template, new Set([4]), pause);
  const connections = parts.payloads.get(2)?.at(-1);
  if (connections !== undefined)
    workflow.connections = await decodeInSteps(ConnectionSetSchema, connections, new Set([7, 8]), pause);
  return workflow;
}

/** A stored closure, as fromBinary(CompiledWorkflowClosureSchema, bytes) gives it, decoded in steps. */
export async function decodeClosureInSteps(
  bytes: Uint8Array,
  pause: () => Promise<void>,
): Promise<CompiledWorkflowClosure> {
  const parts = split(bytes, new Set([1, 2]));
  const closure = fromBinary(CompiledWorkflowClosureSchema, parts.rest);
  const primary = parts.payloads.get(1)?.at(-1);
  if (primary !== undefined) closure.primary = await decodeWorkflow(primary, pause);
  for (const sub of parts.payloads.get(2) ?? []) closure.subWorkflows.push(await decodeWorkflow(sub, pause));
  return closure;
}
