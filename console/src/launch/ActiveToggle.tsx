// Activates a launch plan version (its schedule runs, and it is the version launched by name) or deactivates it.
import { useState } from "react";
import { type LaunchPlan, LaunchPlanState } from "../../../gen/flyteidl/admin/launch_plan_pb.js";
import { admin, describeError } from "../api";

export function ActiveToggle({ launchPlan, onChanged }: { launchPlan: LaunchPlan; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const id = launchPlan.id;
  if (id === undefined) return null;
  const active = launchPlan.closure?.state === LaunchPlanState.ACTIVE;
  const toggle = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await admin.updateLaunchPlan({ id, state: active ? LaunchPlanState.INACTIVE : LaunchPlanState.ACTIVE });
      onChanged();
    } catch (e) {
      setError(describeError(e, `change launch plans in ${id.project}/${id.domain}`));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        className="small"
        data-testid="toggle-active"
        disabled={busy}
        onClick={() => void toggle()}
      >
        {active ? "Deactivate" : "Activate"}
      </button>
      {error !== undefined && (
        <span className="error-text" role="alert">
          {" "}
          {error}
        </span>
      )}
    </>
  );
}
