// The execution page: header and actions, pending signals, the live workflow graph with expandable nested nodes, a
// timeline, and the selected node's panel. Everything live comes from one watch stream (no polling).
import { create } from "@bufbuild/protobuf";
import { useCallback, useMemo, useState } from "react";
import {
  type WorkflowExecutionIdentifier,
  WorkflowExecutionIdentifierSchema,
} from "../../../gen/flyteidl/core/identifier_pb.js";
import { admin } from "../api";
import { ErrorBanner } from "../ui/ErrorBanner";
import { useLoad } from "../ui/useLoad";
import { ExecutionHeader } from "./ExecutionHeader";
import type { ExecutionStore } from "./execution-store";
import { type GraphNode, gateNodeIds, graphNode, graphOf } from "./graph-model";
import { NodePanel, type Selection } from "./NodePanel";
import { Signals } from "./Signals";
import { Timeline } from "./Timeline";
import { useExecutionWatch } from "./use-execution-watch";
import { useStoreVersion } from "./use-store";
import { WorkflowGraph } from "./WorkflowGraph";
import "./execution.css";

/** The header, re-rendered as the execution and its stream change (at most once a frame). */
function LiveHeader(props: { store: ExecutionStore; id: WorkflowExecutionIdentifier }) {
  useStoreVersion(props.store);
  return <ExecutionHeader id={props.id} execution={props.store.execution} status={props.store.status} />;
}

interface ExecutionKey {
  readonly project: string;
  readonly domain: string;
  readonly name: string;
}

/** One execution's view: a new one (selection and expansions reset) when the page moves to another execution. */
export function ExecutionPage(props: ExecutionKey) {
  const { project, domain, name } = props;
  return <ExecutionView key={`${project}/${domain}/${name}`} project={project} domain={domain} name={name} />;
}

function ExecutionView(props: ExecutionKey) {
  const { project, domain, name } = props;
  const executionId = useMemo(
    () => create(WorkflowExecutionIdentifierSchema, { project, domain, name }),
    [project, domain, name],
  );
  const store = useExecutionWatch(project, domain, name);
  const execution = useLoad((signal) => admin.getExecution({ id: executionId }, { signal }), [executionId]);
  const wfId = execution.data?.closure?.workflowId;
  const workflow = useLoad(
    async (signal) => (wfId === undefined ? undefined : admin.getWorkflow({ id: wfId }, { signal })),
    [wfId?.project, wfId?.domain, wfId?.name, wfId?.version],
  );
  const closure = workflow.data?.closure?.compiledWorkflow;
  const gateIds = useMemo(
    () => (closure === undefined ? new Set<string>() : gateNodeIds(closure)),
    [closure],
  );
  const topNodes = useMemo(() => {
    const primary = closure?.primary;
    return new Map(primary === undefined ? [] : graphOf(primary).nodes.map((n) => [n.id, n]));
  }, [closure]);
  const [selection, setSelection] = useState<Selection>();
  const onSelect = useCallback((id: string, node: GraphNode) => setSelection({ id, node }), []);
  const selectById = useCallback(
    (id: string) => setSelection({ id, node: topNodes.get(id) ?? graphNode(undefined, id) }),
    [topNodes],
  );
  const close = useCallback(() => setSelection(undefined), []);
  const loadError = execution.error ?? workflow.error;
  return (
    <main className="execution-page">
      <LiveHeader store={store} id={executionId} />
      {loadError !== undefined && (
        <ErrorBanner
          error={loadError}
          action={`read executions in ${project}/${domain}`}
          onRetry={execution.error !== undefined ? execution.reload : workflow.reload}
        />
      )}
      <Signals store={store} executionId={executionId} gateIds={gateIds} />
      <div className={`execution-body${selection === undefined ? "" : " with-panel"}`}>
        <div className="execution-main">
          {closure === undefined ? (
            loadError === undefined && <p className="muted">Loading the workflow…</p>
          ) : (
            <WorkflowGraph
              closure={closure}
              store={store}
              executionId={executionId}
              selected={selection?.id}
              onSelect={onSelect}
            />
          )}
          <Timeline store={store} onSelect={selectById} />
        </div>
        {selection !== undefined && (
          <NodePanel
            key={selection.id}
            store={store}
            executionId={executionId}
            selection={selection}
            onSelect={onSelect}
            onClose={close}
          />
        )}
      </div>
    </main>
  );
}
