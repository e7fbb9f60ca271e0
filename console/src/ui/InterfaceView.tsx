// A task's or workflow's typed interface, and a launch plan's parameters: names, types, descriptions, defaults.
import type { ParameterMap, VariableMap } from "../../../gen/flyteidl/core/interface_pb.js";
import { LiteralView } from "./LiteralView";
import { typeLabel } from "./literal-type";

function sorted<T>(map: { [key: string]: T } | undefined): [string, T][] {
  return Object.entries(map ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

/** Inputs or outputs of an interface. */
export function VariablesView({ vars, empty = "none" }: { vars: VariableMap | undefined; empty?: string }) {
  const entries = sorted(vars?.variables);
  if (entries.length === 0) return <p className="muted">{empty}</p>;
  return (
    <dl className="literal-map">
      {entries.map(([name, v]) => (
        <div key={name} className="literal-entry">
          <dt>{name}</dt>
          <dd>
            <code>{typeLabel(v.type)}</code>
            {v.description !== "" && <span className="muted"> — {v.description}</span>}
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** A launch plan's parameters: each with its type and its default, or "required". */
export function ParametersView({ params }: { params: ParameterMap | undefined }) {
  const entries = sorted(params?.parameters);
  if (entries.length === 0) return <p className="muted">none</p>;
  return (
    <dl className="literal-map">
      {entries.map(([name, p]) => (
        <div key={name} className="literal-entry">
          <dt>{name}</dt>
          <dd>
            <code>{typeLabel(p.var?.type)}</code>
            {p.var?.description ? <span className="muted"> — {p.var.description}</span> : null}
            <div>
              {p.behavior.case === "default" ? (
                <>
                  default: <LiteralView literal={p.behavior.value} />
                </>
              ) : p.behavior.case === "required" && p.behavior.value ? (
                <span className="required">required</span>
              ) : null}
            </div>
          </dd>
        </div>
      ))}
    </dl>
  );
}
