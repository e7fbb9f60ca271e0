// A laid-out graph: edges drawn once as SVG paths under absolutely placed node buttons, in a scrolling, zoomable
// canvas. Layout and edges are memoised per graph shape; live phases reach the nodes through the store directly.
import { useCallback, useId, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { ExecutionStore } from "./execution-store";
import { GraphNodeView } from "./GraphNodeView";
import "./graph.css";
import { type GraphLayout, gridLayout, layoutGraph } from "./graph-layout";
import type { GraphModel, GraphNode } from "./graph-model";

const ZOOMS = [0.25, 0.4, 0.6, 0.8, 1, 1.25, 1.5];
const MIN_FIT = 0.4;

export interface GraphViewProps {
  readonly model: GraphModel;
  readonly store: ExecutionStore;
  /** The execution id of each node, by its spec id (the spec id itself at the top level). */
  readonly execIds: ReadonlyMap<string, string> | undefined;
  readonly selected: string | undefined;
  readonly expanded: ReadonlySet<string>;
  readonly onSelect: (execId: string, node: GraphNode) => void;
  readonly onToggle: (execId: string, node: GraphNode) => void;
  readonly label: string;
  readonly testId?: string;
  /** Rows of nodes instead of a layered layout (an array's elements, which have no edges). */
  readonly grid?: boolean;
}

function Edges({ layout }: { layout: GraphLayout }) {
  const arrow = useId();
  return (
    <svg className="graph-edges" width={layout.width} height={layout.height} aria-hidden="true">
      <defs>
        <marker id={arrow} viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8" orient="auto">
          <path d="M0,0L8,4L0,8z" />
        </marker>
      </defs>
      {layout.edges.map((e) => (
        <path key={e.key} d={e.d} markerEnd={`url(#${arrow})`} />
      ))}
    </svg>
  );
}

function ZoomBar(props: { at: number; onZoom: (at: number) => void; onFit: () => void }) {
  const { at, onZoom } = props;
  return (
    <div className="graph-zoom" role="toolbar" aria-label="Zoom">
      <button
        type="button"
        className="small"
        aria-label="Zoom out"
        disabled={at === 0}
        onClick={() => onZoom(at - 1)}
      >
        −
      </button>
      <span aria-live="polite">{Math.round((ZOOMS[at] ?? 1) * 100)}%</span>
      <button
        type="button"
        className="small"
        aria-label="Zoom in"
        disabled={at === ZOOMS.length - 1}
        onClick={() => onZoom(at + 1)}
      >
        +
      </button>
      <button type="button" className="small" onClick={props.onFit}>
        Fit
      </button>
    </div>
  );
}

/** The largest zoom (from 40% to 100%) at which a graph this wide fits the width available. */
function fitZoom(graphWidth: number, available: number): number {
  let at = ZOOMS.indexOf(MIN_FIT);
  ZOOMS.forEach((z, i) => {
    if (z >= MIN_FIT && z <= 1 && graphWidth * z <= available) at = i;
  });
  return at;
}

export function GraphView(props: GraphViewProps) {
  const { model, store, execIds, selected, expanded } = props;
  const layout = useMemo(() => (props.grid ? gridLayout(model) : layoutGraph(model)), [model, props.grid]);
  const scroller = useRef<HTMLDivElement>(null);
  // Unset until the first layout effect measured the room: the nodes are drawn once, at the fitting zoom.
  const [zoomAt, setZoomAt] = useState<number>();
  const fitToWidth = useCallback(
    () => setZoomAt(fitZoom(layout.width, scroller.current?.clientWidth ?? 0)),
    [layout],
  );
  useLayoutEffect(() => {
    fitToWidth();
  }, [fitToWidth]);
  const zoom = ZOOMS[zoomAt ?? ZOOMS.indexOf(1)] ?? 1;
  const edges = useMemo(() => <Edges layout={layout} />, [layout]);
  return (
    <section className="graph" data-testid={props.testId} aria-label={props.label}>
      <ZoomBar at={zoomAt ?? ZOOMS.indexOf(1)} onZoom={setZoomAt} onFit={fitToWidth} />
      <div className="graph-scroll" ref={scroller}>
        {zoomAt !== undefined && (
          <div style={{ width: layout.width * zoom, height: layout.height * zoom }}>
            <div
              className="graph-canvas"
              style={{ width: layout.width, height: layout.height, transform: `scale(${zoom})` }}
            >
              {edges}
              {model.nodes.map((n) => {
                const p = layout.nodes.get(n.id);
                const execId = execIds?.get(n.id) ?? n.id;
                return (
                  <GraphNodeView
                    key={n.id}
                    node={n}
                    execId={execId}
                    x={p?.x ?? 0}
                    y={p?.y ?? 0}
                    store={store}
                    selected={selected === execId}
                    expanded={expanded.has(execId)}
                    onSelect={props.onSelect}
                    onToggle={props.onToggle}
                  />
                );
              })}
            </div>
          </div>
        )}
      </div>
    </section>
  );
}
