// Gate nodes: wait for a signal, an approval, or a durable timer. Waiting costs nothing: the node stays RUNNING
// and the execution is evaluated again when SetSignal commits or when the timer's work item comes due.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import {
  type ExecutionError,
  ExecutionError_ErrorKind,
  ExecutionErrorSchema,
  NodeExecution_Phase as NodePhase,
} from "../../gen/flyteidl/core/execution_pb.js";
import { type LiteralMap, LiteralMapSchema, LiteralSchema } from "../../gen/flyteidl/core/literals_pb.js";
import { LiteralTypeSchema, SimpleType } from "../../gen/flyteidl/core/types_pb.js";
import type { GateNode, Node } from "../../gen/flyteidl/core/workflow_pb.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";
import type { NodeExecutionRow } from "../repositories/node-execution-repo.js";
import { getOrCreateSignal } from "../repositories/signal-repo.js";
import { enqueueEvaluation } from "../repositories/work-repo.js";
import { decodeLiteralMap } from "../transformers/literals.js";
import type { EngineContext, Placement } from "./engine-context.js";

/** Petrel's limit on a duration the engine waits for: protobuf's maximum, 10,000 years (dates and intervals hold it). */
export const MAX_DURATION_MS = 315_576_000_000_000;

/** A Duration in milliseconds, within ±MAX_DURATION_MS (a spec stored before durations were checked may exceed it). */
export const durationMs = (d: { seconds: bigint; nanos: number } | undefined): number => {
  if (d === undefined) return 0;
  const ms = Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
  return Math.max(-MAX_DURATION_MS, Math.min(MAX_DURATION_MS, ms));
};

function signalKey(exec: ExecutionRow, signalId: string) {
  return {
    execution_project: exec.execution_project,
    execution_domain: exec.execution_domain,
    execution_name: exec.execution_name,
    signal_id: signalId,
  };
}

async function signalValue(trx: Knex, exec: ExecutionRow, gate: GateNode) {
  const c = gate.condition;
  if (c.case !== "signal" && c.case !== "approve") return undefined;
  const type =
    c.case === "signal" && c.value.type !== undefined
      ? c.value.type
      : create(LiteralTypeSchema, { type: { case: "simple", value: SimpleType.BOOLEAN } });
  const row = await getOrCreateSignal(
    trx,
    signalKey(exec, c.value.signalId),
    Buffer.from(toBinary(LiteralTypeSchema, type)),
  );
  return row.value === null ? undefined : fromBinary(LiteralSchema, row.value);
}

/** Starts a gate node: RUNNING, its signal created (or its timer set). */
export async function startGate(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  node: Node,
  inputs: LiteralMap,
  placement: Placement = {},
): Promise<void> {
  const gate = node.target.case === "gateNode" ? node.target.value : undefined;
  const under = placement;
  await ctx.nodeEvent(trx, exec, node.id, NodePhase.QUEUED, { inputs, ...under });
  await ctx.nodeEvent(trx, exec, node.id, NodePhase.RUNNING);
  if (gate?.condition.case === "sleep")
    await enqueueEvaluation(trx, exec.id, durationMs(gate.condition.value.duration));
  else if (gate !== undefined) await signalValue(trx, exec, gate);
  const timeout = durationMs(node.metadata?.timeout);
  if (timeout > 0) await enqueueEvaluation(trx, exec.id, timeout);
}

type Outcome =
  | { phase: NodePhase.SUCCEEDED; outputs: LiteralMap }
  | { phase: NodePhase.FAILED | NodePhase.TIMED_OUT; error: ExecutionError };

async function outcome(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  node: Node,
  row: NodeExecutionRow,
  now: Date,
): Promise<Outcome | undefined> {
  const gate = node.target.case === "gateNode" ? node.target.value : undefined;
  const started = row.started_at ?? row.node_execution_created_at;
  const c = gate?.condition;
  if (c?.case === "sleep") {
    if (now.getTime() >= started.getTime() + durationMs(c.value.duration))
      return { phase: NodePhase.SUCCEEDED, outputs: create(LiteralMapSchema) };
  } else if (gate !== undefined && c !== undefined) {
    const value = await signalValue(trx, exec, gate);
    if (value !== undefined && c.case === "signal") {
      const name = c.value.outputVariableName;
      return {
        phase: NodePhase.SUCCEEDED,
        outputs: create(LiteralMapSchema, { literals: name === "" ? {} : { [name]: value } }),
      };
    }
    if (value !== undefined && c.case === "approve") {
      const approved =
        value.value.case === "scalar" &&
        value.value.value.value.case === "primitive" &&
        value.value.value.value.value.value.case === "boolean" &&
        value.value.value.value.value.value.value;
      if (approved)
        return {
          phase: NodePhase.SUCCEEDED,
          outputs: decodeLiteralMap(
            row.input_uri === "" ? undefined : await ctx.readData(trx, row.input_uri),
          ),
        };
      const error = create(ExecutionErrorSchema, {
        code: "ReceivedRejectSignal",
        message: `rejected by signal [${c.value.signalId}]`,
        kind: ExecutionError_ErrorKind.USER,
      });
      return { phase: NodePhase.FAILED, error };
    }
  }
  const timeout = durationMs(node.metadata?.timeout);
  if (timeout > 0 && now.getTime() >= started.getTime() + timeout) {
    const error = create(ExecutionErrorSchema, {
      code: "Timeout",
      message: `gate [${node.id}] timed out after ${timeout} ms`,
      kind: ExecutionError_ErrorKind.USER,
    });
    return { phase: NodePhase.TIMED_OUT, error };
  }
  return undefined;
}

/** Milliseconds until the gate's sleep ends or its timeout passes (whichever comes first), if either is ahead. */
function nextTimer(node: Node, row: NodeExecutionRow, now: Date): number | undefined {
  const started = (row.started_at ?? row.node_execution_created_at).getTime();
  const c = node.target.case === "gateNode" ? node.target.value.condition : undefined;
  const timeout = durationMs(node.metadata?.timeout);
  const ends = [
    ...(c?.case === "sleep" ? [started + durationMs(c.value.duration)] : []),
    ...(timeout > 0 ? [started + timeout] : []),
  ].filter((t) => t > now.getTime());
  return ends.length === 0 ? undefined : Math.min(...ends) - now.getTime();
}

/** Finishes a running gate whose condition is met (or whose timeout passed); true when it finished. */
export async function checkGate(
  ctx: EngineContext,
  trx: Knex,
  exec: ExecutionRow,
  node: Node,
  row: NodeExecutionRow,
): Promise<boolean> {
  const now = new Date();
  const o = await outcome(ctx, trx, exec, node, row, now);
  if (o === undefined) {
    // Still waiting: its timer is armed again, since a pending wake-up may have been folded into an earlier one.
    const due = nextTimer(node, row, now);
    if (due !== undefined) await enqueueEvaluation(trx, exec.id, due);
    return false;
  }
  if (o.phase === NodePhase.SUCCEEDED)
    await ctx.nodeEvent(trx, exec, node.id, o.phase, { outputs: o.outputs });
  else await ctx.nodeEvent(trx, exec, node.id, o.phase, { error: o.error });
  return true;
}
