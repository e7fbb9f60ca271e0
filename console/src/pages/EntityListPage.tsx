// The launch plans, workflows or tasks of a project and domain: their names a page at a time, and for launch plans
// the active version and its schedule.
import { Sort_Direction } from "../../../gen/flyteidl/admin/common_pb.js";
import { type LaunchPlan, LaunchPlanState } from "../../../gen/flyteidl/admin/launch_plan_pb.js";
import { admin } from "../api";
import { type EntityKind, Link, paths } from "../router";
import { ErrorBanner } from "../ui/ErrorBanner";
import { Pager, usePages } from "../ui/Pager";
import { scheduleText } from "../ui/schedule";
import { useLoad } from "../ui/useLoad";

const PAGE_SIZE = 50;
const TITLES: Record<EntityKind, string> = {
  launch_plans: "Launch plans",
  workflows: "Workflows",
  tasks: "Tasks",
};

interface Props {
  kind: EntityKind;
  project: string;
  domain: string;
}

/** The active versions among `names` (one ListLaunchPlans call; names that would break the filter are left out). */
async function activeVersions(
  props: Props,
  names: string[],
  signal: AbortSignal,
): Promise<Map<string, LaunchPlan>> {
  const safe = names.filter((n) => !/[,;+()]/.test(n));
  if (safe.length === 0) return new Map();
  const res = await admin.listLaunchPlans(
    {
      id: { project: props.project, domain: props.domain },
      limit: safe.length,
      filters: `eq(state,${LaunchPlanState.ACTIVE})+value_in(name,${safe.join(";")})`,
    },
    { signal },
  );
  return new Map(res.launchPlans.map((lp) => [lp.id?.name ?? "", lp]));
}

async function loadPage(props: Props, token: string, signal: AbortSignal) {
  const req = {
    project: props.project,
    domain: props.domain,
    limit: PAGE_SIZE,
    token,
    sortBy: { key: "name", direction: Sort_Direction.ASCENDING },
  };
  const opts = { signal };
  const res =
    props.kind === "launch_plans"
      ? await admin.listLaunchPlanIds(req, opts)
      : props.kind === "workflows"
        ? await admin.listWorkflowIds(req, opts)
        : await admin.listTaskIds(req, opts);
  const names = res.entities.map((e) => e.name);
  const active = props.kind === "launch_plans" ? await activeVersions(props, names, signal) : new Map();
  return { names, active, token: res.token };
}

export function EntityListPage(props: Props) {
  const pages = usePages();
  const list = useLoad(
    (signal) => loadPage(props, pages.token, signal),
    [props.kind, props.project, props.domain, pages.token],
  );
  const isLp = props.kind === "launch_plans";
  const title = TITLES[props.kind];
  return (
    <main>
      <h1>{title}</h1>
      {list.error !== undefined && (
        <ErrorBanner
          error={list.error}
          action={`list ${title.toLowerCase()} in ${props.project}/${props.domain}`}
          onRetry={list.reload}
        />
      )}
      {list.loading && list.data === undefined && <p className="muted">Loading…</p>}
      {list.data?.names.length === 0 && (
        <p>No {title.toLowerCase()} registered in this project and domain.</p>
      )}
      {list.data !== undefined && list.data.names.length > 0 && (
        <div className="table-wrap">
          <table className="stack">
            <thead>
              <tr>
                <th scope="col">Name</th>
                {isLp && <th scope="col">Active version</th>}
                {isLp && <th scope="col">Schedule</th>}
              </tr>
            </thead>
            <tbody>
              {list.data.names.map((name) => {
                const lp = list.data?.active.get(name);
                return (
                  <tr key={name} data-testid="entity-row" data-name={name}>
                    <td className="name" data-label="Name">
                      <Link to={paths.entity(props.kind, props.project, props.domain, name)}>{name}</Link>
                    </td>
                    {isLp && (
                      <td data-label="Active" className="mono">
                        {lp?.id?.version ?? <span className="muted">none active</span>}
                      </td>
                    )}
                    {isLp && (
                      <td data-label="Schedule">{scheduleText(lp?.spec?.entityMetadata?.schedule) ?? "—"}</td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <Pager pages={pages} nextToken={list.data?.token} />
    </main>
  );
}
