// The launch form's state: one text per parameter, prefilled from its default, and the inputs it makes.
import { create } from "@bufbuild/protobuf";
import type { Parameter, ParameterMap } from "../../../gen/flyteidl/core/interface_pb.js";
import { type Literal, type LiteralMap, LiteralMapSchema } from "../../../gen/flyteidl/core/literals_pb.js";
import { type LiteralType, SimpleType } from "../../../gen/flyteidl/core/types_pb.js";
import { isNoneType } from "../ui/literal-type";
import { fromText, toText } from "./literal-text";

export interface Field {
  readonly name: string;
  readonly type: LiteralType | undefined;
  readonly description: string;
  /** No default: a value must be given. */
  readonly required: boolean;
  /** The default as text; undefined when there is none. */
  readonly defaultText: string | undefined;
  /** A default that cannot be shown as text (e.g. binary): it is kept, and the field is read-only. */
  readonly opaqueDefault: Literal | undefined;
}

/** The fields of a launch plan's parameters, sorted by name. */
export function fieldsOf(params: ParameterMap | undefined): Field[] {
  return Object.entries(params?.parameters ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, p]: [string, Parameter]) => {
      const type = p.var?.type;
      const def = p.behavior.case === "default" ? p.behavior.value : undefined;
      const defaultText = def !== undefined && type !== undefined ? toText(def, type) : undefined;
      return {
        name,
        type,
        description: p.var?.description ?? "",
        required: def === undefined,
        defaultText,
        opaqueDefault: def !== undefined && defaultText === undefined ? def : undefined,
      };
    });
}

/** Texts to start the form with: the defaults. */
export function initialValues(fields: readonly Field[]): Record<string, string> {
  return Object.fromEntries(fields.map((f) => [f.name, f.defaultText ?? ""]));
}

/** Whether a union's variants include none (Optional[...]). */
export function isOptional(t: LiteralType | undefined): boolean {
  return t?.type.case === "unionType" && t.type.value.variants.some(isNoneType);
}

const isString = (t: LiteralType) => t.type.case === "simple" && t.type.value === SimpleType.STRING;

/** The literal a field's text gives, undefined to let the server apply the default, or an error message. */
function fieldLiteral(f: Field, text: string): Literal | undefined | { error: string } {
  if (f.opaqueDefault !== undefined || f.type === undefined) return undefined;
  if (f.defaultText !== undefined && text === f.defaultText) return undefined;
  if (text.trim() === "" && !isOptional(f.type) && !(isString(f.type) && !f.required)) {
    return { error: f.required ? "required" : "enter a value (the default was cleared)" };
  }
  try {
    return fromText(text, f.type);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** The inputs to launch with, or the errors by field name. */
export function buildInputs(
  fields: readonly Field[],
  values: Readonly<Record<string, string>>,
): { inputs: LiteralMap; errors: Record<string, string> } {
  const literals: Record<string, Literal> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const r = fieldLiteral(f, values[f.name] ?? "");
    if (r === undefined) continue;
    if ("error" in r) errors[f.name] = r.error;
    else literals[f.name] = r;
  }
  return { inputs: create(LiteralMapSchema, { literals }), errors };
}
