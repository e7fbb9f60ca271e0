// A linear-time layered layout for big graphs, where dagre's ranking, crossing reduction and coordinate assignment
// take most of a second for 1,000 nodes: ranks by longest path from the sources, one barycentre sweep each way to
// order the ranks, ranks left to right (each centred on the tallest), edges as curves between node sides.
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

/** Each node's rank: the longest path to it from a source (nodes on a cycle, which compiled graphs lack, stay 0). */
function ranks(n: number, outs: readonly number[][], indegree: number[]): number[] {
  const rank = new Array<number>(n).fill(0);
  const queue: number[] = [];
  indegree.forEach((d, i) => {
    if (d === 0) queue.push(i);
  });
  for (let head = 0; head < queue.length; head++) {
    const i = queue[head] ?? 0;
    for (const j of outs[i] ?? []) {
      rank[j] = Math.max(rank[j] ?? 0, (rank[i] ?? 0) + 1);
      indegree[j] = (indegree[j] ?? 0) - 1;
      if (indegree[j] === 0) queue.push(j);
    }
  }
  return rank;
}

export function quickLayout(model: GraphModel): GraphLayout {
  const n = model.nodes.length;
  const index = new Map(model.nodes.map((node, i) => [node.id, i]));
  const outs: number[][] = Array.from({ length: n }, () => []);
  const ins: number[][] = Array.from({ length: n }, () => []);
  const indegree = new Array<number>(n).fill(0);
  for (const [a, b] of model.edges) {
    const i = index.get(a);
    const j = index.get(b);
    if (i === undefined || j === undefined || i === j) continue;
    outs[i]?.push(j);
    ins[j]?.push(i);
    indegree[j] = (indegree[j] ?? 0) + 1;
  }
  const rank = ranks(n, outs, indegree);
  const layers: number[][] = Array.from({ length: Math.max(0, ...rank) + 1 }, () => []);
  rank.forEach((r, i) => {
    layers[r]?.push(i);
  });
  const tallest = Math.max(1, ...layers.map((l) => l.length));
  const pos = new Float64Array(n);
  const place = (layer: number[]) => {
    layer.forEach((i, k) => {
      pos[i] = k + (tallest - layer.length) / 2;
    });
  };
  const sweep = (layer: number[], neighbours: readonly number[][]) => {
    const centre = new Map<number, number>();
    for (const i of layer) {
      const ns = neighbours[i] ?? [];
      centre.set(i, ns.length === 0 ? (pos[i] ?? 0) : ns.reduce((s, j) => s + (pos[j] ?? 0), 0) / ns.length);
    }
    layer.sort((a, b) => (centre.get(a) ?? 0) - (centre.get(b) ?? 0));
    place(layer);
  };
  for (const layer of layers) place(layer);
  for (let r = 1; r < layers.length; r++) sweep(layers[r] ?? [], ins);
  for (let r = layers.length - 2; r >= 0; r--) sweep(layers[r] ?? [], outs);
  const nodes = new Map<string, PlacedNode>();
  model.nodes.forEach((node, i) => {
    const x = MARGIN + (rank[i] ?? 0) * (NODE_WIDTH + RANK_SEP);
    nodes.set(node.id, { id: node.id, x, y: MARGIN + (pos[i] ?? 0) * (NODE_HEIGHT + NODE_SEP) });
  });
  const edges = model.edges.flatMap(([a, b]) => {
    const from = nodes.get(a);
    const to = nodes.get(b);
    if (from === undefined || to === undefined) return [];
    const x1 = from.x + NODE_WIDTH;
    const y1 = from.y + NODE_HEIGHT / 2;
    const y2 = to.y + NODE_HEIGHT / 2;
    const bend = RANK_SEP / 2;
    const d = `M${x1},${y1}C${x1 + bend},${y1} ${to.x - bend},${y2} ${to.x},${y2}`;
    return [{ key: `${a}\u0000${b}`, d }];
  });
  return {
    width: 2 * MARGIN + layers.length * (NODE_WIDTH + RANK_SEP) - RANK_SEP,
    height: 2 * MARGIN + tallest * (NODE_HEIGHT + NODE_SEP) - NODE_SEP,
    nodes,
    edges,
  };
}
