// Commands that act on an execution or a launch plan — terminate, relaunch, recover, signal, launchplan — each
// saying in one line what it did.
import type { Signal } from "../../gen/flyteidl/admin/signal_pb.js";
import { type LiteralType, SimpleType } from "../../gen/flyteidl/core/types_pb.js";
import type { ExecutionHandle } from "../execution-handle.js";
import type { FriendlyRemote } from "../friendly-remote.js";
import { fromLiteral } from "../type-engine.js";
import { flag, type ParsedArgs, parseDuration, UsageError } from "./args.js";
import { getCommand } from "./get.js";
import { executionPath, fetchExecution, printConsoleUrl } from "./lookup.js";

/** `terminate EXECUTION [--cause TEXT]`, `relaunch EXECUTION`, `recover EXECUTION`. */
export async function steerExecution(
  remote: FriendlyRemote,
  a: ParsedArgs,
  out: (s: string) => void,
): Promise<number> {
  const [cmd, name] = a.words;
  const exe = await fetchExecution(remote, name);
  const from = executionPath(exe.execution.id);
  if (cmd === "terminate") {
    await remote.terminate(exe, flag(a, "--cause") ?? "terminated with the petrel CLI");
    out(`terminated ${from}`);
  } else {
    const again = cmd === "relaunch" ? await remote.relaunch(exe) : await remote.recover(exe);
    out(`${cmd === "relaunch" ? "relaunched" : "recovered"} ${from} as ${executionPath(again.execution.id)}`);
    printConsoleUrl(again, out);
  }
  return 0;
}

/** A declared signal type as a word: boolean, integer, string… (`value` for anything not simple). */
function typeName(t: LiteralType | undefined): string {
  if (t?.type.case === "simple") return (SimpleType[t.type.value] ?? "value").toLowerCase();
  return t?.type.case?.replace(/Type$/, "") ?? "value";
}

function describeSignal(s: Signal, exe: ExecutionHandle): string {
  const what = `signal ${s.id?.signalId} of ${executionPath(exe.execution.id)}`;
  if (s.value !== undefined) return `${what} is set: ${JSON.stringify(fromLiteral(s.value))}`;
  return `${what} is waiting (type ${typeName(s.type)})`;
}

/**
 * `signal list EXECUTION`, `signal wait EXECUTION SIGNAL [--timeout D]`, `signal approve|reject SIGNAL EXECUTION`,
 * `signal set SIGNAL EXECUTION VALUE` (VALUE is JSON, or text when it is not).
 */
export async function signalCommand(
  remote: FriendlyRemote,
  a: ParsedArgs,
  parseValue: (raw: string) => unknown,
  out: (s: string) => void,
): Promise<number> {
  const [, verb, first, second, value] = a.words;
  if (verb === "list") return getCommand(remote, ["get", "signals", first ?? ""], a, out);
  if (verb === "wait") {
    if (second === undefined)
      throw new UsageError("usage: petrel signal wait EXECUTION SIGNAL [--timeout 5m]");
    const exe = await fetchExecution(remote, first);
    const timeout = flag(a, "--timeout");
    const timeoutMs = timeout === undefined ? Number.POSITIVE_INFINITY : (parseDuration(timeout) ?? 0);
    const signal = await exe.waitForSignal(second, { timeoutMs, pollIntervalMs: 250 });
    out(describeSignal(signal, exe));
    return 0;
  }
  if (verb !== "approve" && verb !== "reject" && verb !== "set")
    throw new UsageError(`signal takes list, wait, approve, reject or set, not "${verb ?? ""}"`);
  if (first === undefined || second === undefined || (verb === "set" && value === undefined))
    throw new UsageError(`usage: petrel signal ${verb} SIGNAL EXECUTION${verb === "set" ? " VALUE" : ""}`);
  const exe = await fetchExecution(remote, second);
  const where = `signal ${first} of ${executionPath(exe.execution.id)}`;
  if (verb === "approve") {
    await remote.approve(first, exe);
    out(`approved ${where}`);
  } else if (verb === "reject") {
    await remote.reject(first, exe);
    out(`rejected ${where}`);
  } else {
    const v = parseValue(value ?? "");
    await remote.setInput(first, exe, v);
    out(`set ${where} to ${JSON.stringify(v)}`);
  }
  return 0;
}

/** `launchplan activate|deactivate NAME [--version V]`. */
export async function launchPlanCommand(
  remote: FriendlyRemote,
  a: ParsedArgs,
  out: (s: string) => void,
): Promise<number> {
  const [, verb, name] = a.words;
  if (verb !== "activate" && verb !== "deactivate")
    throw new UsageError(`launchplan takes activate or deactivate, not "${verb ?? ""}"`);
  if (name === undefined) throw new UsageError(`usage: petrel launchplan ${verb} NAME [--version V]`);
  const lp = await remote.fetchLaunchPlan(name, flag(a, "--version"));
  if (verb === "activate") await remote.activate(lp);
  else await remote.deactivate(lp);
  out(`launch plan ${name} ${lp.id?.version} ${verb}d`);
  return 0;
}
