// A container task's resource requests and limits (Flyte's Resources, Kubernetes quantities) as Docker's limits: the
// CPU limit (else the request) as NanoCpus, the memory limit (else the request) as Memory, a memory request below
// the limit as MemoryReservation. Pure functions.
import {
  type Resources,
  type Resources_ResourceEntry,
  Resources_ResourceName,
} from "../../../gen/flyteidl/core/tasks_pb.js";

export interface DockerLimits {
  NanoCpus?: number;
  Memory?: number;
  MemoryReservation?: number;
}

const SUFFIXES: Readonly<Record<string, number>> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  m: 1e-3,
};

/** A Kubernetes quantity ("500m", "2", "1.5", "256Mi", "1G", "1e3") as a number; undefined when it is not one. */
export function parseQuantity(text: string): number | undefined {
  const m = /^\s*([+]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|[kMGTPEm]?)\s*$/.exec(text);
  if (m === null) return undefined;
  const value = Number(m[1]) * (SUFFIXES[m[2] ?? ""] ?? 1);
  return Number.isFinite(value) ? value : undefined;
}

function entry(list: readonly Resources_ResourceEntry[], name: Resources_ResourceName): number | undefined {
  const e = list.find((x) => x.name === name);
  return e === undefined ? undefined : parseQuantity(e.value);
}

/** Docker's limits for a container's resources; problems lists values that are not quantities. */
export function dockerLimits(resources: Resources | undefined): { limits: DockerLimits; problems: string[] } {
  const limits: DockerLimits = {};
  const problems: string[] = [];
  if (resources === undefined) return { limits, problems };
  for (const e of [...resources.requests, ...resources.limits])
    if (
      (e.name === Resources_ResourceName.CPU || e.name === Resources_ResourceName.MEMORY) &&
      parseQuantity(e.value) === undefined
    )
      problems.push(`resource ${Resources_ResourceName[e.name]} "${e.value}" is not a quantity`);
  const cpu =
    entry(resources.limits, Resources_ResourceName.CPU) ??
    entry(resources.requests, Resources_ResourceName.CPU);
  if (cpu !== undefined && cpu > 0) limits.NanoCpus = Math.max(1e6, Math.round(cpu * 1e9));
  const memLimit = entry(resources.limits, Resources_ResourceName.MEMORY);
  const memRequest = entry(resources.requests, Resources_ResourceName.MEMORY);
  const memory = memLimit ?? memRequest;
  // Docker refuses less than 6 MB.
  if (memory !== undefined && memory > 0) limits.Memory = Math.max(6 * 2 ** 20, Math.round(memory));
  if (memLimit !== undefined && memRequest !== undefined && memRequest > 0 && memRequest < memLimit)
    limits.MemoryReservation = Math.round(memRequest);
  return { limits, problems };
}
