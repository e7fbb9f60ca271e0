// Checks every request shares, made by walking the message with its descriptor: no NUL character in any string
// (Postgres text cannot hold one), enum values the proto declares, google.protobuf.Duration and Timestamp within
// protobuf's range, and unsigned integers that land in integer columns within int32. A plan is compiled once per
// message type and keeps only fields that can hold something to check (bytes, bools and numbers are skipped), so
// walking a request costs a few property reads per field that is set. The value checks are in message-checks.ts.
import { type DescField, type DescMessage, type Message, ScalarType } from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { invalidArgument } from "../errors.js";
import {
  type Check,
  checkDuration,
  checkJson,
  checkList,
  checkMap,
  checkString,
  checkTimestamp,
  enumCheck,
  type Fault,
  int32Column,
} from "./message-checks.js";

/** Opaque literal payloads: user data stored as protobuf bytes, passed through as FlyteAdmin passes it. */
const NUL_ALLOWED: ReadonlySet<string> = new Set([
  "flyteidl.core.Primitive.string_value",
  "flyteidl.core.Scalar.generic",
]);

/** Enum fields whose manager answers an undeclared value with FlyteAdmin's own text (flyteadmin-semantics.md). */
const ENUM_CHECKED_BY_MANAGER: ReadonlySet<string> = new Set([
  "flyteidl.admin.LaunchPlanUpdateRequest.state", // Unrecognized launch plan state <s> for update for launch plan [...]
  "flyteidl.admin.Notification.phases", // invalid value for phase
]);

/** uint32 fields stored in (or compared with) Postgres `integer` columns. */
const INT32_COLUMNS: ReadonlySet<string> = new Set([
  "flyteidl.core.TaskExecutionIdentifier.retry_attempt",
  "flyteidl.event.TaskExecutionEvent.retry_attempt",
  "flyteidl.event.TaskExecutionEvent.phase_version",
]);

interface Member {
  /** The proto field name, for paths. */
  readonly name: string;
  readonly check: Check;
}

/** A field (its localName), or a oneof group (its localName) with the members that need checking by localName. */
type Step =
  | { readonly local: string; readonly field: Member }
  | { readonly local: string; readonly members: ReadonlyMap<string, Member> };

interface Plan {
  readonly steps: Step[];
  readonly check: Check;
  /** False until compiled (a recursive type refers to its own plan while it is compiled). */
  done: boolean;
}

const plans = new Map<string, Plan>();

function planFor(desc: DescMessage): Plan {
  const cached = plans.get(desc.typeName);
  if (cached !== undefined) return cached;
  const steps: Step[] = [];
  const plan: Plan = { steps, check: (m) => walk(steps, m as Record<string, unknown>), done: false };
  plans.set(desc.typeName, plan);
  const oneofs = new Map<string, Map<string, Member>>();
  for (const field of desc.fields) {
    const check = fieldCheck(field);
    if (check === undefined) continue;
    if (field.oneof === undefined) {
      steps.push({ local: field.localName, field: { name: field.name, check } });
      continue;
    }
    let members = oneofs.get(field.oneof.localName);
    if (members === undefined) {
      members = new Map();
      oneofs.set(field.oneof.localName, members);
      steps.push({ local: field.oneof.localName, members });
    }
    members.set(field.localName, { name: field.name, check });
  }
  plan.done = true;
  return plan;
}

function walk(steps: readonly Step[], m: Record<string, unknown>): Fault | undefined {
  for (const s of steps) {
    let v = m[s.local];
    if (v === undefined) continue;
    let member: Member | undefined;
    if ("field" in s) member = s.field;
    else {
      const o = v as { case: string | undefined; value?: unknown };
      member = o.case === undefined ? undefined : s.members.get(o.case);
      if (member === undefined) continue;
      v = o.value;
    }
    const f = member.check(v);
    if (f !== undefined) {
      f.path.push(member.name);
      return f;
    }
  }
  return undefined;
}

/** The check of one message-typed value, or undefined when nothing in that type needs checking. */
function messageCheck(field: DescField, desc: DescMessage, singular: boolean): Check | undefined {
  switch (desc.typeName) {
    case "google.protobuf.Duration":
      return checkDuration;
    case "google.protobuf.Timestamp":
      return checkTimestamp;
    case "google.protobuf.Struct":
      if (field.parent.typeName !== "google.protobuf.Value") {
        return (v) =>
          (v as Partial<Message>).$typeName === undefined ? checkJson(v) : planFor(desc).check(v);
      }
  }
  // Singular wrapper fields outside a oneof hold the bare value.
  if (singular && field.oneof === undefined && isWrapperDesc(desc)) {
    return desc.typeName === "google.protobuf.StringValue" ? checkString : undefined;
  }
  const plan = planFor(desc);
  return plan.done && plan.steps.length === 0 ? undefined : plan.check;
}

function scalarCheck(field: DescField, scalar: ScalarType): Check | undefined {
  if (scalar === ScalarType.STRING) return checkString;
  if (INT32_COLUMNS.has(`${field.parent.typeName}.${field.name}`)) return int32Column;
  return undefined;
}

function fieldCheck(field: DescField): Check | undefined {
  const qualified = `${field.parent.typeName}.${field.name}`;
  if (NUL_ALLOWED.has(qualified)) return undefined;
  switch (field.fieldKind) {
    case "scalar":
      return scalarCheck(field, field.scalar);
    case "enum":
      return ENUM_CHECKED_BY_MANAGER.has(qualified) ? undefined : enumCheck(field.enum);
    case "message":
      return messageCheck(field, field.message, true);
    case "list": {
      const element =
        field.listKind === "scalar"
          ? scalarCheck(field, field.scalar)
          : field.listKind === "enum"
            ? ENUM_CHECKED_BY_MANAGER.has(qualified)
              ? undefined
              : enumCheck(field.enum)
            : messageCheck(field, field.message, false);
      return element === undefined ? undefined : checkList(element);
    }
    case "map": {
      const value =
        field.mapKind === "scalar"
          ? scalarCheck(field, field.scalar)
          : field.mapKind === "enum"
            ? enumCheck(field.enum)
            : messageCheck(field, field.message, false);
      const stringKeys = field.mapKey === ScalarType.STRING;
      return value === undefined && !stringKeys ? undefined : checkMap(value, stringKeys);
    }
  }
}

function joinPath(segments: readonly string[]): string {
  let out = "";
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i] ?? "";
    out += s.startsWith("[") || out === "" ? s : `.${s}`;
  }
  return out;
}

/**
 * Throws INVALID_ARGUMENT naming the field (`spec.launch_plan.name`, `nodes[2].metadata.timeout`,
 * `labels.values["team"]`) when a message holds a NUL character in a string, an undeclared enum value, a Duration or
 * Timestamp out of protobuf's range, or an integer too large for the column it is stored in.
 */
export function checkMessage(desc: DescMessage, message: Message): void {
  const f = planFor(desc).check(message);
  if (f !== undefined) throw invalidArgument(f.describe(joinPath(f.path)));
}
