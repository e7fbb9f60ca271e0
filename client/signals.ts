// Setting an execution's signals (approve, reject, set an input): the value converted with the signal's declared
// type, and a clear "no signal X in execution Y" when the id is wrong or the gate has not been reached yet.
import type { Signal } from "../gen/flyteidl/admin/signal_pb.js";
import type { LiteralType } from "../gen/flyteidl/core/types_pb.js";
import { uploadLocalBlobs } from "./blob-uploads.js";
import { InvalidInputError, SignalNotFoundError } from "./errors.js";
import type { ExecutionHandle } from "./execution-handle.js";
import type { SynchronousClient } from "./synchronous-client.js";
import { toLiteral } from "./type-engine.js";

interface Scope {
  readonly client: SynchronousClient;
  readonly project: string;
  readonly domain: string;
}

export async function listExecutionSignals(s: Scope, exe: ExecutionHandle<object>): Promise<Signal[]> {
  const out: Signal[] = [];
  for await (const signal of s.client.listSignalsAll({ workflowExecutionId: exe.id })) out.push(signal);
  return out;
}

const ids = (signals: readonly Signal[]) => signals.map((x) => x.id?.signalId ?? "");

/**
 * Sets `signalId` of `exe` to `value`, converted with `type` or else the signal's declared type. A signal that does
 * not exist (yet) is a SignalNotFoundError, whether found out here or by the server.
 */
export async function setSignalValue(
  s: Scope,
  exe: ExecutionHandle<object>,
  signalId: string,
  value: unknown,
  type: LiteralType | undefined,
): Promise<void> {
  let declared = type;
  if (declared === undefined) {
    const signals = await listExecutionSignals(s, exe);
    const found = signals.find((x) => x.id?.signalId === signalId);
    if (found === undefined) throw new SignalNotFoundError(signalId, exe.name, ids(signals));
    declared = found.type;
  }
  const literal = toLiteral(value, declared, signalId);
  await uploadLocalBlobs(s.client, s, { [signalId]: literal });
  try {
    await s.client.setSignal({ id: { signalId, executionId: exe.id }, value: literal });
  } catch (err) {
    // FlyteAdmin's text for a missing signal (an INVALID_ARGUMENT).
    if (err instanceof InvalidInputError && err.message.includes("signal does not exist"))
      throw new SignalNotFoundError(signalId, exe.name, ids(await listExecutionSignals(s, exe)), err.cause);
    throw err;
  }
}
