// A launch plan: the version shown (the active one unless ?version= names another), its workflow, schedule and
// inputs, the launch form, and its versions.
import { Code, ConnectError } from "@connectrpc/connect";
import { Sort_Direction } from "../../../gen/flyteidl/admin/common_pb.js";
import { type LaunchPlan, LaunchPlanState } from "../../../gen/flyteidl/admin/launch_plan_pb.js";
import { ResourceType } from "../../../gen/flyteidl/core/identifier_pb.js";
import { admin } from "../api";
import { ActiveToggle } from "../launch/ActiveToggle";
import { LaunchForm } from "../launch/LaunchForm";
import { Link, paths } from "../router";
import { ErrorBanner } from "../ui/ErrorBanner";
import { ParametersView, VariablesView } from "../ui/InterfaceView";
import { LiteralMapView } from "../ui/LiteralView";
import { scheduleText } from "../ui/schedule";
import { Time } from "../ui/Time";
import { useLoad } from "../ui/useLoad";
import { VersionList } from "../ui/VersionList";

interface Props {
  project: string;
  domain: string;
  name: string;
  version: string | undefined;
}

/** The version asked for; else the active version; else the newest. */
async function loadLaunchPlan(p: Props, signal: AbortSignal): Promise<LaunchPlan> {
  const named = { project: p.project, domain: p.domain, name: p.name };
  if (p.version !== undefined) {
    return admin.getLaunchPlan(
      { id: { resourceType: ResourceType.LAUNCH_PLAN, ...named, version: p.version } },
      { signal },
    );
  }
  // The active version if there is one (a list, not GetActiveLaunchPlan, whose NOT_FOUND browsers log), else the newest.
  const newestFirst = { key: "created_at", direction: Sort_Direction.DESCENDING };
  const active = await admin.listLaunchPlans(
    { id: named, limit: 1, filters: `eq(state,${LaunchPlanState.ACTIVE})`, sortBy: newestFirst },
    { signal },
  );
  if (active.launchPlans[0] !== undefined) return active.launchPlans[0];
  const res = await admin.listLaunchPlans({ id: named, limit: 1, sortBy: newestFirst }, { signal });
  const newest = res.launchPlans[0];
  if (newest === undefined) throw new ConnectError(`launch plan ${p.name} not found`, Code.NotFound);
  return newest;
}

export function LaunchPlanPage(props: Props) {
  const { project, domain, name } = props;
  const lp = useLoad((signal) => loadLaunchPlan(props, signal), [project, domain, name, props.version]);
  const plan = lp.data;
  const wf = plan?.spec?.workflowId;
  const version = plan?.id?.version;
  const active = plan?.closure?.state === LaunchPlanState.ACTIVE;
  return (
    <main>
      <h1>{name}</h1>
      <p className="muted">Launch plan</p>
      {lp.error !== undefined && (
        <ErrorBanner error={lp.error} action="read this launch plan" onRetry={lp.reload} />
      )}
      {lp.loading && plan === undefined && <p className="muted">Loading…</p>}
      {plan !== undefined && (
        <>
          <dl className="facts">
            <dt>Version</dt>
            <dd className="mono">
              {version} {active ? <strong>(active)</strong> : <span className="muted">(inactive)</span>}{" "}
              <ActiveToggle launchPlan={plan} onChanged={lp.reload} />
            </dd>
            <dt>Workflow</dt>
            <dd>
              {wf === undefined ? (
                "—"
              ) : (
                <Link to={paths.entity("workflows", wf.project, wf.domain, wf.name, wf.version)}>
                  {wf.name} <span className="mono">@{wf.version}</span>
                </Link>
              )}
            </dd>
            <dt>Schedule</dt>
            <dd>{scheduleText(plan.spec?.entityMetadata?.schedule) ?? "none"}</dd>
            <dt>Registered</dt>
            <dd>
              <Time value={plan.closure?.createdAt} />
            </dd>
            <dt>Executions</dt>
            <dd>
              <Link to={`${paths.executions(project, domain)}?lp=${encodeURIComponent(name)}`}>
                Executions of {name}
              </Link>
            </dd>
          </dl>
          <h2 id="launch-title">Launch</h2>
          <LaunchForm key={version} launchPlan={plan} />
          <h2>Default inputs</h2>
          <ParametersView params={plan.spec?.defaultInputs} />
          <h2>Fixed inputs</h2>
          <LiteralMapView map={plan.spec?.fixedInputs} />
          <h2>Outputs</h2>
          <VariablesView vars={plan.closure?.expectedOutputs} />
        </>
      )}
      <VersionList
        key={`${version}:${active}`}
        kind="launch_plans"
        project={project}
        domain={domain}
        name={name}
        selected={version}
      />
    </main>
  );
}
