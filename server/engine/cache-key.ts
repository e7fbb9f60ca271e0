// The cache key of a task run: the task's name (not version), its discovery version, and the input values
// (minus cache_ignore_input_vars), hashed in a stable way. Pure.
import { createHash } from "node:crypto";
import { toJson } from "@bufbuild/protobuf";
import type { Identifier } from "../../gen/flyteidl/core/identifier_pb.js";
import { type LiteralMap, LiteralSchema } from "../../gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stable(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** undefined when the task is not cacheable. */
export function cacheKey(task: Identifier, template: TaskTemplate, inputs: LiteralMap): string | undefined {
  const m = template.metadata;
  if (m?.discoverable !== true) return undefined;
  const ignored = new Set(m.cacheIgnoreInputVars);
  const values = Object.fromEntries(
    Object.entries(inputs.literals)
      .filter(([k]) => !ignored.has(k))
      .map(([k, lit]) => [k, toJson(LiteralSchema, lit)]),
  );
  const hash = createHash("sha256").update(stable(values)).digest("hex");
  return [task.project, task.domain, task.name, m.discoveryVersion, hash].join("/");
}
