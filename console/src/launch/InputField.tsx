// One launch-form input, by the parameter's type: a checkbox for booleans, a list for enums, a JSON box for lists,
// maps and structs, a text field for the rest (numbers, dates, durations, file URIs).
import type { ReactNode } from "react";
import { type LiteralType, SimpleType } from "../../../gen/flyteidl/core/types_pb.js";
import { LiteralView } from "../ui/LiteralView";
import { isNoneType, typeLabel } from "../ui/literal-type";
import { type Field, isOptional } from "./form-state";

type Widget =
  | { kind: "checkbox" }
  | { kind: "select"; options: string[] }
  | { kind: "json"; example: string }
  | { kind: "text"; placeholder: string; inputMode?: "numeric" | "decimal" };

const TEXT_HINTS: Record<number, { placeholder: string; inputMode?: "numeric" | "decimal" }> = {
  [SimpleType.INTEGER]: { placeholder: "e.g. 42", inputMode: "numeric" },
  [SimpleType.FLOAT]: { placeholder: "e.g. 3.14", inputMode: "decimal" },
  [SimpleType.STRING]: { placeholder: "" },
  [SimpleType.DATETIME]: { placeholder: "e.g. 2024-05-01T12:00:00Z" },
  [SimpleType.DURATION]: { placeholder: "e.g. 90s, 1h30m, 250ms" },
};

/** The widget for a type; Optional[T] uses T's widget (left empty for None). */
function widgetFor(t: LiteralType | undefined, optional: boolean): Widget {
  const v = t?.type;
  if (v?.case === "unionType") {
    const variants = v.value.variants.filter((x) => !isNoneType(x));
    if (variants.length === 1) return widgetFor(variants[0], true);
    return { kind: "json", example: "a value of one of the types" };
  }
  if (v?.case === "simple") {
    if (v.value === SimpleType.BOOLEAN)
      return optional ? { kind: "select", options: ["true", "false"] } : { kind: "checkbox" };
    if (v.value === SimpleType.STRUCT) return { kind: "json", example: '{"key": "value"}' };
    return { kind: "text", ...(TEXT_HINTS[v.value] ?? { placeholder: "" }) };
  }
  if (v?.case === "enumType") return { kind: "select", options: v.value.values };
  if (v?.case === "collectionType") return { kind: "json", example: "[1, 2, 3]" };
  if (v?.case === "mapValueType") return { kind: "json", example: '{"a": 1}' };
  return { kind: "text", placeholder: "s3://bucket/key or file:///path" };
}

interface Props {
  field: Field;
  value: string;
  error: string | undefined;
  onChange: (value: string) => void;
}

export function InputField({ field, value, error, onChange }: Props) {
  const id = `input-${field.name}`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const optional = isOptional(field.type);
  const widget = widgetFor(field.type, optional);
  const common = {
    id,
    "data-testid": id,
    "aria-describedby": error === undefined ? hintId : `${hintId} ${errorId}`,
    "aria-invalid": error !== undefined,
    "aria-required": field.required,
  };
  let control: ReactNode;
  if (field.opaqueDefault !== undefined) {
    control = (
      <div id={id} data-testid={id}>
        <LiteralView literal={field.opaqueDefault} /> <span className="muted">(default, kept)</span>
      </div>
    );
  } else if (widget.kind === "checkbox") {
    control = (
      <input
        {...common}
        type="checkbox"
        checked={value === "true"}
        onChange={(e) => onChange(String(e.target.checked))}
      />
    );
  } else if (widget.kind === "select") {
    control = (
      <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
        {(optional || !widget.options.includes(value)) && (
          <option value="">{optional ? "None" : "Choose…"}</option>
        )}
        {widget.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  } else if (widget.kind === "json") {
    control = (
      <textarea
        {...common}
        value={value}
        spellCheck={false}
        placeholder={widget.example}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  } else {
    control = (
      <input
        {...common}
        type="text"
        value={value}
        placeholder={widget.placeholder}
        {...(widget.inputMode !== undefined ? { inputMode: widget.inputMode } : {})}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }
  return (
    <div className={`field${error === undefined ? "" : " invalid"}`}>
      <label htmlFor={id}>
        {field.name}
        {field.required && (
          <span className="required" title="required">
            {" "}
            *<span className="visually-hidden"> (required)</span>
          </span>
        )}
      </label>
      {control}
      <span className="hint" id={hintId}>
        {typeLabel(field.type)}
        {widget.kind === "json" ? " (JSON)" : ""}
        {optional ? "; leave empty for None" : ""}
        {field.description !== "" ? ` — ${field.description}` : ""}
      </span>
      {error !== undefined && (
        <span className="error-text" id={errorId} role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
