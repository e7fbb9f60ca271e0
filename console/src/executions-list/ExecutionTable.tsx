// The rows of the executions list: phase, name, launch plan, times and actions, one card per row on a phone.
import type { Execution } from "../../../gen/flyteidl/admin/execution_pb.js";
import { ResourceType } from "../../../gen/flyteidl/core/identifier_pb.js";
import { Link, paths } from "../router";
import { ExecutionActions } from "../ui/ExecutionActions";
import { isTerminalWorkflowPhase, PhaseBadge, phaseName } from "../ui/PhaseBadge";
import { Elapsed, isSet, Time } from "../ui/Time";

function LaunchedFrom({ execution }: { execution: Execution }) {
  const lp = execution.spec?.launchPlan;
  if (lp === undefined || lp.name === "") return <span>—</span>;
  const kind = lp.resourceType === ResourceType.TASK ? "tasks" : "launch_plans";
  return (
    <Link to={paths.entity(kind, lp.project, lp.domain, lp.name, lp.version)}>
      {kind === "tasks" ? "task " : ""}
      {lp.name}
    </Link>
  );
}

function Row({ execution }: { execution: Execution }) {
  const id = execution.id;
  const c = execution.closure;
  const phase = c?.phase ?? 0;
  if (id === undefined) return null;
  return (
    <tr data-testid="execution-row" data-name={id.name} data-phase={phaseName("workflow", phase)}>
      <td data-label="Phase">
        <PhaseBadge kind="workflow" phase={phase} />
      </td>
      <td className="name mono" data-label="Name">
        <Link to={paths.execution(id.project, id.domain, id.name)}>{id.name}</Link>
      </td>
      <td className="name" data-label="Launch plan">
        <LaunchedFrom execution={execution} />
      </td>
      <td data-label="Started">
        {isSet(c?.startedAt) ? <Time value={c?.startedAt} /> : <span className="muted">not started</span>}
      </td>
      <td data-label="Duration">
        <Elapsed started={c?.startedAt} duration={c?.duration} running={!isTerminalWorkflowPhase(phase)} />
      </td>
      <td data-label="Actions">
        <ExecutionActions execution={execution} />
      </td>
    </tr>
  );
}

export function ExecutionTable({ rows }: { rows: Execution[] }) {
  return (
    <div className="table-wrap">
      <table className="stack" data-testid="executions-table">
        <thead>
          <tr>
            <th scope="col">Phase</th>
            <th scope="col">Name</th>
            <th scope="col">Launch plan</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((e) => (
            <Row key={e.id?.name} execution={e} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
