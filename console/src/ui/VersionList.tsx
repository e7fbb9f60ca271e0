// The versions of a launch plan, workflow or task, newest first, a page at a time; the one shown is marked.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { Sort_Direction } from "../../../gen/flyteidl/admin/common_pb.js";
import { LaunchPlanState } from "../../../gen/flyteidl/admin/launch_plan_pb.js";
import { admin } from "../api";
import { type EntityKind, Link, paths } from "../router";
import { ErrorBanner } from "./ErrorBanner";
import { Pager, usePages } from "./Pager";
import { Time } from "./Time";
import { useLoad } from "./useLoad";

const PAGE_SIZE = 20;

interface Version {
  version: string;
  createdAt: Timestamp | undefined;
  active: boolean;
}

interface Props {
  kind: EntityKind;
  project: string;
  domain: string;
  name: string;
  /** The version the page shows. */
  selected: string | undefined;
}

async function loadVersions(p: Props, token: string, signal: AbortSignal) {
  const req = {
    id: { project: p.project, domain: p.domain, name: p.name },
    limit: PAGE_SIZE,
    token,
    sortBy: { key: "created_at", direction: Sort_Direction.DESCENDING },
  };
  let items: Version[];
  let next: string;
  if (p.kind === "launch_plans") {
    const res = await admin.listLaunchPlans(req, { signal });
    items = res.launchPlans.map((lp) => ({
      version: lp.id?.version ?? "",
      createdAt: lp.closure?.createdAt,
      active: lp.closure?.state === LaunchPlanState.ACTIVE,
    }));
    next = res.token;
  } else {
    const res =
      p.kind === "workflows"
        ? await admin.listWorkflows(req, { signal })
        : await admin.listTasks(req, { signal });
    const entities = "workflows" in res ? res.workflows : res.tasks;
    items = entities.map((e) => ({
      version: e.id?.version ?? "",
      createdAt: e.closure?.createdAt,
      active: false,
    }));
    next = res.token;
  }
  return { items, token: next };
}

export function VersionList(props: Props) {
  const pages = usePages();
  const list = useLoad(
    (signal) => loadVersions(props, pages.token, signal),
    [props.kind, props.project, props.domain, props.name, pages.token],
  );
  return (
    <section aria-labelledby="versions-title">
      <h2 id="versions-title">Versions</h2>
      {list.error !== undefined && (
        <ErrorBanner error={list.error} action="list versions" onRetry={list.reload} />
      )}
      <div className="table-wrap">
        <table className="stack">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Registered</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.items.map((v) => (
              <tr key={v.version} data-testid="version-row">
                <td className="name mono" data-label="Version">
                  <Link
                    to={paths.entity(props.kind, props.project, props.domain, props.name, v.version)}
                    aria-current={v.version === props.selected ? "page" : undefined}
                  >
                    {v.version}
                  </Link>
                  {v.version === props.selected && <span className="muted"> (shown)</span>}
                  {v.active && <strong> active</strong>}
                </td>
                <td data-label="Registered">
                  <Time value={v.createdAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager pages={pages} nextToken={list.data?.token} />
    </section>
  );
}
