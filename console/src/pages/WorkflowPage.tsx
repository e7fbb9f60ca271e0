// A workflow: the version shown (the newest unless ?version= names one), its interface, a link to launch it through
// the launch plan of the same name, and its versions.
import { Code, ConnectError } from "@connectrpc/connect";
import { Sort_Direction } from "../../../gen/flyteidl/admin/common_pb.js";
import { ResourceType } from "../../../gen/flyteidl/core/identifier_pb.js";
import { admin } from "../api";
import { Link, paths } from "../router";
import { ErrorBanner } from "../ui/ErrorBanner";
import { InterfaceAndVersions } from "../ui/InterfaceAndVersions";
import { Time } from "../ui/Time";
import { useLoad } from "../ui/useLoad";

interface Props {
  project: string;
  domain: string;
  name: string;
  version: string | undefined;
}

const newestFirst = { key: "created_at", direction: Sort_Direction.DESCENDING };

async function loadWorkflow(p: Props, signal: AbortSignal) {
  const named = { project: p.project, domain: p.domain, name: p.name };
  // A list item may come without the compiled closure: the version found is read in full.
  const version =
    p.version ??
    (await admin.listWorkflows({ id: named, limit: 1, sortBy: newestFirst }, { signal })).workflows[0]?.id
      ?.version;
  if (version === undefined) throw new ConnectError(`workflow ${p.name} not found`, Code.NotFound);
  const workflow = await admin.getWorkflow(
    { id: { resourceType: ResourceType.WORKFLOW, ...named, version } },
    { signal },
  );
  // The launch plan flytekit registers with every workflow has the workflow's name.
  const lps = await admin.listLaunchPlans({ id: named, limit: 1, sortBy: newestFirst }, { signal });
  return { workflow, hasLaunchPlan: lps.launchPlans.length > 0 };
}

export function WorkflowPage(props: Props) {
  const { project, domain, name } = props;
  const wf = useLoad((signal) => loadWorkflow(props, signal), [project, domain, name, props.version]);
  const workflow = wf.data?.workflow;
  const template = workflow?.closure?.compiledWorkflow?.primary?.template;
  const version = workflow?.id?.version;
  return (
    <main>
      <h1>{name}</h1>
      <p className="muted">Workflow</p>
      {wf.error !== undefined && (
        <ErrorBanner error={wf.error} action="read this workflow" onRetry={wf.reload} />
      )}
      {wf.loading && workflow === undefined && <p className="muted">Loading…</p>}
      {workflow !== undefined && (
        <>
          {wf.data?.hasLaunchPlan && (
            <p>
              <Link to={paths.entity("launch_plans", project, domain, name)} className="button-link">
                Launch {name}
              </Link>
            </p>
          )}
          <dl className="facts">
            <dt>Version</dt>
            <dd className="mono">{version}</dd>
            {workflow.shortDescription !== "" && (
              <>
                <dt>Description</dt>
                <dd>{workflow.shortDescription}</dd>
              </>
            )}
            <dt>Nodes</dt>
            <dd>
              {template?.nodes.filter((n) => n.id !== "start-node" && n.id !== "end-node").length ?? "—"}
            </dd>
            <dt>Registered</dt>
            <dd>
              <Time value={workflow.closure?.createdAt} />
            </dd>
          </dl>
        </>
      )}
      <InterfaceAndVersions
        kind="workflows"
        project={project}
        domain={domain}
        name={name}
        shown={workflow === undefined ? undefined : { version, iface: template?.interface }}
      />
    </main>
  );
}
