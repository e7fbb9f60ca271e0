// The workflow graph: upstream/downstream connections, cycle detection and reachability from start-node.
import { create } from "@bufbuild/protobuf";
import { type ConnectionSet, ConnectionSetSchema } from "../../gen/flyteidl/core/compiler_pb.js";
import { END_NODE, START_NODE } from "./bindings.js";
import { type CompileError, compileError } from "./compile-errors.js";

/**
 * Builds connections for user nodes given each node's dependencies and the end-node's dependencies. Case nodes
 * (inside branches) get upstream entries only, as in Flyte: they run under their branch, not in the graph.
 */
export function buildConnections(
  deps: ReadonlyMap<string, ReadonlySet<string>>,
  endDeps: ReadonlySet<string>,
  caseDeps: ReadonlyMap<string, ReadonlySet<string>>,
  errors: CompileError[],
): ConnectionSet {
  const up = new Map<string, Set<string>>();
  const down = new Map<string, Set<string>>();
  const link = (from: string, to: string) => {
    if (!up.has(to)) up.set(to, new Set());
    if (!down.has(from)) down.set(from, new Set());
    up.get(to)?.add(from);
    down.get(from)?.add(to);
  };
  for (const [node, ds] of deps) {
    if (ds.size === 0) link(START_NODE, node);
    for (const d of ds) if (d !== node) link(d, node);
  }
  for (const d of endDeps) link(d, END_NODE);
  for (const node of deps.keys()) if (!down.has(node)) link(node, END_NODE);
  if (deps.size === 0 && endDeps.size === 0) link(START_NODE, END_NODE);
  for (const [node, ds] of caseDeps) {
    for (const d of ds) {
      if (!up.has(node)) up.set(node, new Set());
      up.get(node)?.add(d);
    }
  }
  detectCycles(deps, errors);
  detectUnreachable(deps, down, errors);
  const toIdLists = (m: Map<string, Set<string>>) =>
    Object.fromEntries(
      [...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, { ids: [...v].sort() }]),
    );
  return create(ConnectionSetSchema, { upstream: toIdLists(up), downstream: toIdLists(down) });
}

function detectCycles(deps: ReadonlyMap<string, ReadonlySet<string>>, errors: CompileError[]): void {
  const state = new Map<string, 1 | 2>();
  const visit = (n: string, path: string[]): boolean => {
    if (state.get(n) === 2) return false;
    if (state.get(n) === 1) {
      errors.push(
        compileError(
          "CycleDetected",
          n,
          `Detected a cycle [${[...path.slice(path.indexOf(n)), n].join(" -> ")}].`,
        ),
      );
      return true;
    }
    state.set(n, 1);
    for (const d of deps.get(n) ?? []) if (deps.has(d) && visit(d, [...path, n])) return true;
    state.set(n, 2);
    return false;
  };
  for (const n of deps.keys()) if (visit(n, [])) return;
}

function detectUnreachable(
  deps: ReadonlyMap<string, ReadonlySet<string>>,
  down: ReadonlyMap<string, ReadonlySet<string>>,
  errors: CompileError[],
): void {
  const seen = new Set<string>([START_NODE]);
  const queue = [START_NODE];
  while (queue.length > 0) {
    const n = queue.shift() as string;
    for (const next of down.get(n) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  const unreachable = [...deps.keys()].filter((n) => !seen.has(n)).sort();
  if (unreachable.length > 0) {
    errors.push(
      compileError(
        "UnreachableNodes",
        unreachable[0] ?? "",
        `Unreachable nodes [${unreachable.join(", ")}].`,
      ),
    );
  }
}
