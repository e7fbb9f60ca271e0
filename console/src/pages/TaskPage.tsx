// A task: the version shown (the newest unless ?version= names one), its type, container, settings and interface,
// and its versions.
import { Code, ConnectError } from "@connectrpc/connect";
import { Sort_Direction } from "../../../gen/flyteidl/admin/common_pb.js";
import { ResourceType } from "../../../gen/flyteidl/core/identifier_pb.js";
import { admin } from "../api";
import { ErrorBanner } from "../ui/ErrorBanner";
import { InterfaceAndVersions } from "../ui/InterfaceAndVersions";
import { formatDuration, Time } from "../ui/Time";
import { useLoad } from "../ui/useLoad";

interface Props {
  project: string;
  domain: string;
  name: string;
  version: string | undefined;
}

async function loadTask(p: Props, signal: AbortSignal) {
  const named = { project: p.project, domain: p.domain, name: p.name };
  const task =
    p.version !== undefined
      ? await admin.getTask(
          { id: { resourceType: ResourceType.TASK, ...named, version: p.version } },
          { signal },
        )
      : (
          await admin.listTasks(
            { id: named, limit: 1, sortBy: { key: "created_at", direction: Sort_Direction.DESCENDING } },
            { signal },
          )
        ).tasks[0];
  if (task === undefined) throw new ConnectError(`task ${p.name} not found`, Code.NotFound);
  return task;
}

export function TaskPage(props: Props) {
  const { project, domain, name } = props;
  const t = useLoad((signal) => loadTask(props, signal), [project, domain, name, props.version]);
  const task = t.data;
  const template = task?.closure?.compiledTask?.template;
  const meta = template?.metadata;
  const container = template?.target.case === "container" ? template.target.value : undefined;
  return (
    <main>
      <h1>{name}</h1>
      <p className="muted">Task</p>
      {t.error !== undefined && <ErrorBanner error={t.error} action="read this task" onRetry={t.reload} />}
      {t.loading && task === undefined && <p className="muted">Loading…</p>}
      {task !== undefined && (
        <dl className="facts">
          <dt>Version</dt>
          <dd className="mono">{task.id?.version}</dd>
          <dt>Type</dt>
          <dd>{template?.type || "—"}</dd>
          {task.shortDescription !== "" && (
            <>
              <dt>Description</dt>
              <dd>{task.shortDescription}</dd>
            </>
          )}
          {container !== undefined && (
            <>
              <dt>Image</dt>
              <dd className="mono">{container.image || "—"}</dd>
              <dt>Command</dt>
              <dd className="mono">{[...container.command, ...container.args].join(" ") || "—"}</dd>
            </>
          )}
          {template?.target.case === "k8sPod" && (
            <>
              <dt>Runs as</dt>
              <dd>a Kubernetes pod</dd>
            </>
          )}
          <dt>Retries</dt>
          <dd>{meta?.retries?.retries ?? 0}</dd>
          <dt>Timeout</dt>
          <dd>{meta?.timeout === undefined ? "none" : formatDuration(meta.timeout)}</dd>
          <dt>Cache</dt>
          <dd>{meta?.discoverable ? `on (version ${meta.discoveryVersion || "—"})` : "off"}</dd>
          <dt>Registered</dt>
          <dd>
            <Time value={task.closure?.createdAt} />
          </dd>
        </dl>
      )}
      <InterfaceAndVersions
        kind="tasks"
        project={project}
        domain={domain}
        name={name}
        shown={task === undefined ? undefined : { version: task.id?.version, iface: template?.interface }}
      />
    </main>
  );
}
