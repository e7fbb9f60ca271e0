// Places a graph's nodes left to right, once per graph shape (phases only recolour what is placed here): with dagre,
// or for big graphs with the linear-time quick layout, so a 1,000-node workflow lays out in milliseconds. An array's
// elements, which have no edges, go in rows.
import dagre from "@dagrejs/dagre";
import type { GraphModel } from "./graph-model";
import {
  type GraphLayout,
  MARGIN,
  NODE_HEIGHT,
  NODE_SEP,
  NODE_WIDTH,
  type PlacedNode,
  RANK_SEP,
} from "./layout-types";
import { quickLayout } from "./quick-layout";

export type { GraphLayout } from "./layout-types";

/** Above this many nodes, the quick layout (dagre takes about 0.4 s in a browser for 1,000 nodes). */
const BIG_GRAPH = 300;
const GRID_COLUMNS = 8;

const layouts = new WeakMap<GraphModel, GraphLayout>();

function pathOf(points: readonly { x: number; y: number }[]): string {
  const [first, ...rest] = points;
  if (first === undefined) return "";
  const at = (p: { x: number; y: number }) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`;
  return `M${at(first)}${rest.map((p) => `L${at(p)}`).join("")}`;
}

function dagreLayout(model: GraphModel): GraphLayout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: NODE_SEP, ranksep: RANK_SEP, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of model.nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const [from, to] of model.edges) g.setEdge(from, to);
  dagre.layout(g);
  const nodes = new Map<string, PlacedNode>();
  for (const n of model.nodes) {
    const p = g.node(n.id);
    nodes.set(n.id, { id: n.id, x: (p.x ?? 0) - NODE_WIDTH / 2, y: (p.y ?? 0) - NODE_HEIGHT / 2 });
  }
  const edges = g.edges().map((e) => ({ key: `${e.v}\u0000${e.w}`, d: pathOf(g.edge(e).points ?? []) }));
  const label = g.graph();
  return { width: label.width ?? 0, height: label.height ?? 0, nodes, edges };
}

export function layoutGraph(model: GraphModel): GraphLayout {
  const known = layouts.get(model);
  if (known !== undefined) return known;
  const layout = model.nodes.length > BIG_GRAPH ? quickLayout(model) : dagreLayout(model);
  layouts.set(model, layout);
  return layout;
}

/** Nodes without edges (an array's elements, a branch's cases) in rows, in model order. */
export function gridLayout(model: GraphModel): GraphLayout {
  const known = layouts.get(model);
  if (known !== undefined) return known;
  const columns = Math.min(GRID_COLUMNS, Math.max(1, model.nodes.length));
  const nodes = new Map<string, PlacedNode>();
  model.nodes.forEach((n, i) => {
    const x = MARGIN + (i % columns) * (NODE_WIDTH + NODE_SEP);
    nodes.set(n.id, { id: n.id, x, y: MARGIN + Math.floor(i / columns) * (NODE_HEIGHT + NODE_SEP) });
  });
  const rows = Math.ceil(model.nodes.length / columns);
  const layout = {
    width: 2 * MARGIN + columns * (NODE_WIDTH + NODE_SEP) - NODE_SEP,
    height: 2 * MARGIN + rows * (NODE_HEIGHT + NODE_SEP) - NODE_SEP,
    nodes,
    edges: [],
  };
  layouts.set(model, layout);
  return layout;
}
