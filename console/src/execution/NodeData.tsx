// A node's inputs and outputs (GetNodeExecutionData, read again when its phase changes), and its deck through a
// signed link from DataProxyService.CreateDownloadLink.
import { useState } from "react";
import type { WorkflowExecutionIdentifier } from "../../../gen/flyteidl/core/identifier_pb.js";
import { ArtifactType } from "../../../gen/flyteidl/service/dataproxy_pb.js";
import { admin, dataProxy, describeError } from "../api";
import { ErrorBanner } from "../ui/ErrorBanner";
import { LiteralMapView } from "../ui/LiteralView";
import { useLoad } from "../ui/useLoad";

function DeckLink({ nodeId, executionId }: { nodeId: string; executionId: WorkflowExecutionIdentifier }) {
  const [state, setState] = useState<{ url?: string; error?: string; busy?: boolean }>({});
  const open = async () => {
    setState({ busy: true });
    try {
      const res = await dataProxy.createDownloadLink({
        artifactType: ArtifactType.DECK,
        source: { case: "nodeExecutionId", value: { nodeId, executionId } },
      });
      setState({ url: res.preSignedUrls?.signedUrl[0] ?? res.signedUrl[0] ?? "" });
    } catch (e) {
      setState({ error: describeError(e, "read this node's deck") });
    }
  };
  if (state.url !== undefined) {
    return (
      <a href={state.url} target="_blank" rel="noreferrer">
        Open deck
      </a>
    );
  }
  return (
    <span>
      <button type="button" className="small" disabled={state.busy} onClick={() => void open()}>
        Get deck link
      </button>
      {state.error !== undefined && <span className="error-text"> {state.error}</span>}
    </span>
  );
}

export function NodeData(props: {
  nodeId: string;
  executionId: WorkflowExecutionIdentifier;
  phase: number;
  hasDeck: boolean;
}) {
  const { nodeId, executionId, phase } = props;
  const data = useLoad(
    (signal) => admin.getNodeExecutionData({ id: { nodeId, executionId } }, { signal }),
    [nodeId, executionId.project, executionId.domain, executionId.name, phase],
  );
  if (data.error !== undefined) {
    return <ErrorBanner error={data.error} action="read this node's data" onRetry={data.reload} />;
  }
  return (
    <>
      <section>
        <h4>Inputs</h4>
        {data.data === undefined ? (
          <p className="muted">Loading…</p>
        ) : (
          <LiteralMapView map={data.data.fullInputs} />
        )}
      </section>
      <section>
        <h4>Outputs</h4>
        {data.data === undefined ? (
          <p className="muted">Loading…</p>
        ) : (
          <LiteralMapView map={data.data.fullOutputs} empty="none yet" />
        )}
      </section>
      {props.hasDeck && (
        <p>
          <DeckLink nodeId={nodeId} executionId={executionId} />
        </p>
      )}
    </>
  );
}
