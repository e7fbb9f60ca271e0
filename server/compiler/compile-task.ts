// The task compiler's checks on a template before it is stored.
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import { parseQuantity } from "../validation/k8s-quantity.js";
import { type CompileError, compileError } from "./compile-errors.js";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function hasIo(t: TaskTemplate): boolean {
  const inputs = Object.keys(t.interface?.inputs?.variables ?? {}).length;
  const outputs = Object.keys(t.interface?.outputs?.variables ?? {}).length;
  return inputs + outputs > 0;
}

function containerErrors(t: TaskTemplate): CompileError[] {
  if (t.target.case !== "container") return [];
  const c = t.target.value;
  const errs: CompileError[] = [];
  if (c.image === "") errs.push(compileError("ValueRequired", "root", "Value required [image]."));
  if (hasIo(t) && c.command.length === 0 && c.args.length === 0) {
    errs.push(compileError("ValueRequired", "root", "Value required [command]."));
  }
  for (const entry of [...(c.resources?.requests ?? []), ...(c.resources?.limits ?? [])]) {
    if (parseQuantity(entry.value) === undefined) {
      errs.push(compileError("InvalidValue", "root", `Invalid value [${entry.value}] for [resources].`));
    }
  }
  return errs;
}

function podErrors(t: TaskTemplate): CompileError[] {
  if (t.target.case !== "k8sPod") return [];
  const containers = t.target.value.podSpec?.containers;
  const names = Array.isArray(containers)
    ? containers.map((c) => (typeof c === "object" && c !== null && !Array.isArray(c) ? c.name : undefined))
    : [];
  return names
    .filter((n): n is string => typeof n === "string" && !DNS1123_LABEL.test(n))
    .map((n) => compileError("InvalidValue", "root", `Invalid value [${n}] for [container name].`));
}

export function compileTask(template: TaskTemplate): CompileError[] {
  return [...containerErrors(template), ...podErrors(template)];
}
