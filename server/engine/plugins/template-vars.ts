// Flyte's command-line template variables: `{{.input}}`, `{{.outputPrefix}}`, `{{.inputs.<name>}}` and the rest, in
// any letter case, with spaces inside the braces and `.` or `$` as the sigil. Unknown variables are left as they are
// (flytekit's own `{{ .remote_package_path }}` placeholders are not the backend's to fill); an unknown input name is
// an error, as in Flyte.
import type { Literal, LiteralMap, Scalar } from "../../../gen/flyteidl/core/literals_pb.js";
import { literalToPlain } from "../../transformers/plain-values.js";
import { toTaskUri } from "./task-io.js";

/** The values of the path-like variables, as the task sees them. */
export interface TemplateVars {
  readonly input: string;
  readonly inputPrefix: string;
  readonly outputPrefix: string;
  readonly rawOutputDataPrefix: string;
  readonly checkpointOutputPrefix: string;
  /** The previous attempt's checkpoint, or `""` (two quote characters) when there is none. */
  readonly prevCheckpointPrefix: string;
  readonly perRetryUniqueKey: string;
  readonly taskTemplatePath: string;
  readonly namespace: string;
}

export class TemplateError extends Error {}

const VARIABLE = /\{\{\s*[.$]([A-Za-z0-9_]+)(?:\.([^}\s]+))?\s*\}\}/g;

/** A float as Go's `%v` prints it: shortest digits, exponent form below 1e-4 and from 1e6 on (`1e+06`). */
export function goFloat(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "NaN" : x > 0 ? "+Inf" : "-Inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const [mantissa = "0", exp = "0"] = x.toExponential().split("e");
  const e = Number(exp);
  if (e >= -4 && e < 6) return String(x);
  const digits = String(Math.abs(e)).padStart(2, "0");
  return `${mantissa}e${e < 0 ? "-" : "+"}${digits}`;
}

function scalarText(s: Scalar): string | undefined {
  const v = s.value;
  switch (v.case) {
    case "primitive": {
      const p = v.value.value;
      if (p.case === "floatValue") return goFloat(p.value);
      if (p.case === "integer" || p.case === "boolean" || p.case === "stringValue") return String(p.value);
      return undefined;
    }
    case "blob":
      return toTaskUri(v.value.uri);
    case "schema":
      return toTaskUri(v.value.uri);
    case "noneType":
      return "";
    default:
      return undefined;
  }
}

/** An input as command-line text: Flyte's rendering for scalars and collections (`[a,b]`), JSON otherwise. */
export function inputText(lit: Literal): string {
  if (lit.value.case === "collection") return `[${lit.value.value.literals.map(inputText).join(",")}]`;
  if (lit.value.case === "scalar") {
    const text = scalarText(lit.value.value);
    if (text !== undefined) return text;
  }
  const v = literalToPlain(lit, toTaskUri);
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** Substitutes the variables in one argument; throws TemplateError for an input the task does not have. */
export function renderTemplate(arg: string, vars: TemplateVars, inputs: LiteralMap): string {
  const byName = new Map(Object.entries(vars).map(([k, v]) => [k.toLowerCase(), v as string]));
  return arg.replace(VARIABLE, (whole, name: string, rest: string | undefined) => {
    const key = name.toLowerCase();
    if (rest !== undefined) {
      if (key !== "inputs") return whole;
      const lit = inputs.literals[rest];
      if (lit === undefined) throw new TemplateError(`requested input is not found [${rest}]`);
      return inputText(lit);
    }
    return byName.get(key) ?? whole;
  });
}
