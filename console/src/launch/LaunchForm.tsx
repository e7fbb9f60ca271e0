// The launch form of a launch plan: one input per parameter (defaults filled in, required ones marked), its fixed
// inputs shown read-only, and CreateExecution on submit, then on to the new execution's page.
import { type FormEvent, useMemo, useState } from "react";
import { ExecutionMetadata_ExecutionMode } from "../../../gen/flyteidl/admin/execution_pb.js";
import type { LaunchPlan } from "../../../gen/flyteidl/admin/launch_plan_pb.js";
import { admin, describeError } from "../api";
import { navigate, paths } from "../router";
import { LiteralMapView } from "../ui/LiteralView";
import { buildInputs, fieldsOf, initialValues } from "./form-state";
import { InputField } from "./InputField";

export function LaunchForm({ launchPlan }: { launchPlan: LaunchPlan }) {
  const id = launchPlan.id;
  const params = launchPlan.closure?.expectedInputs ?? launchPlan.spec?.defaultInputs;
  const fields = useMemo(() => fieldsOf(params), [params]);
  const [values, setValues] = useState(() => initialValues(fields));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [executionName, setExecutionName] = useState("");
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const fixed = launchPlan.spec?.fixedInputs;

  const change = (name: string, value: string) => {
    setValues((v) => ({ ...v, [name]: value }));
    setErrors(({ [name]: _, ...rest }) => rest);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (id === undefined) return;
    const built = buildInputs(fields, values);
    setErrors(built.errors);
    setFailure(undefined);
    const invalid = Object.keys(built.errors);
    if (invalid.length > 0) {
      document.getElementById(`input-${invalid[0]}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      const res = await admin.createExecution({
        project: id.project,
        domain: id.domain,
        name: executionName.trim(),
        inputs: built.inputs,
        spec: { launchPlan: id, metadata: { mode: ExecutionMetadata_ExecutionMode.MANUAL } },
      });
      const ex = res.id;
      if (ex !== undefined) navigate(paths.execution(ex.project, ex.domain, ex.name));
    } catch (err) {
      setFailure(describeError(err, `launch executions in ${id.project}/${id.domain}`));
      setBusy(false);
    }
  };

  return (
    <form className="launch-form" data-testid="launch-form" onSubmit={(e) => void submit(e)} noValidate>
      {fields.length === 0 && <p className="muted">This launch plan takes no inputs.</p>}
      {fields.map((f) => (
        <InputField
          key={f.name}
          field={f}
          value={values[f.name] ?? ""}
          error={errors[f.name]}
          onChange={(v) => change(f.name, v)}
        />
      ))}
      {fixed !== undefined && Object.keys(fixed.literals).length > 0 && (
        <div className="field">
          <span className="label">Fixed inputs (set by the launch plan)</span>
          <LiteralMapView map={fixed} />
        </div>
      )}
      <div className="field">
        <label htmlFor="execution-name">Execution name (optional)</label>
        <input
          id="execution-name"
          data-testid="execution-name"
          type="text"
          value={executionName}
          placeholder="generated when empty"
          onChange={(e) => setExecutionName(e.target.value)}
        />
      </div>
      {failure !== undefined && (
        <div className="error-banner" role="alert">
          {failure}
        </div>
      )}
      <div>
        <button type="submit" data-testid="launch-submit" disabled={busy || id === undefined}>
          {busy ? "Launching…" : "Launch"}
        </button>
      </div>
    </form>
  );
}
