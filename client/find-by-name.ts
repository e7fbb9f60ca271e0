// Finding entities by name, as the C# engine's GetWorkflowId does: the latest version of a name, candidates for a
// name or prefix, close names when nothing matches, and a workflow version's launch plan by name (Latch's
// launch_from_launch_plan(wf_name, version, lp_name)).
import { Sort_Direction } from "../gen/flyteidl/admin/common_pb.js";
import type { LaunchPlan } from "../gen/flyteidl/admin/launch_plan_pb.js";
import { ResourceType } from "../gen/flyteidl/core/identifier_pb.js";
import { EntityNotFoundError, NameNotFoundError } from "./errors.js";
import type { SynchronousClient } from "./synchronous-client.js";

export type EntityKind = "Tasks" | "Workflows" | "LaunchPlans";

const LABEL: Record<EntityKind, string> = {
  Tasks: "task",
  Workflows: "workflow",
  LaunchPlans: "launch plan",
};

interface Scope {
  readonly client: SynchronousClient;
  readonly project: string;
  readonly domain: string;
}

/** A workflow name with its newest version. */
export interface WorkflowCandidate {
  readonly name: string;
  readonly latestVersion: string;
  readonly createdAt: Date | undefined;
}

/** The names of every task, workflow or launch plan in the project and domain. */
export async function entityNames(s: Scope, kind: EntityKind): Promise<string[]> {
  const names: string[] = [];
  for await (const id of s.client[`list${kind.slice(0, -1) as "Task" | "Workflow" | "LaunchPlan"}IdsAll`]({
    project: s.project,
    domain: s.domain,
  }))
    names.push(id.name);
  return names;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** Up to `max` of `candidates` close to `name`: containing it or contained in it, or a few edits away. */
export function closeNames(name: string, candidates: readonly string[], max = 5): string[] {
  const n = name.toLowerCase();
  const scored = candidates.flatMap((c) => {
    const l = c.toLowerCase();
    if (l.includes(n) || n.includes(l)) return [{ c, score: 0 }];
    const d = editDistance(n, l);
    return d <= Math.max(2, Math.floor(n.length / 3)) ? [{ c, score: d }] : [];
  });
  return scored
    .sort((x, y) => x.score - y.score || x.c.localeCompare(y.c))
    .slice(0, max)
    .map((x) => x.c);
}

const didYouMean = (names: readonly string[]) =>
  names.length === 0 ? "" : `; did you mean ${names.map((n) => `"${n}"`).join(", ")}?`;

/** The error for a name with no version: where it looked, and close names. */
export async function nameNotFound(s: Scope, kind: EntityKind, name: string): Promise<NameNotFoundError> {
  const suggestions = closeNames(name, await entityNames(s, kind).catch(() => []));
  return new NameNotFoundError(
    `Named entity ${s.project}/${s.domain}/${name} not found: no ${LABEL[kind]} named "${name}" in project ${s.project}, domain ${s.domain}${didYouMean(suggestions)}`,
    suggestions,
  );
}

/** The given version, or the latest one (newest first by creation, as flytekit does). */
export async function resolveVersion(s: Scope, kind: EntityKind, name: string, version?: string) {
  if (version !== undefined && version !== "latest") return version;
  const latest = (await latestOf(s, kind, name))?.id?.version;
  if (latest === undefined) throw await nameNotFound(s, kind, name);
  return latest;
}

async function latestOf(s: Scope, kind: EntityKind, name: string) {
  const page = await s.client[`list${kind}Paginated`]({
    project: s.project,
    domain: s.domain,
    name,
    limit: 1,
    sortBy: { key: "created_at", direction: Sort_Direction.DESCENDING },
  });
  return page.items[0];
}

/** Workflows whose name is `nameOrPrefix` or starts with it, each with its latest version, by name. */
export async function findWorkflows(s: Scope, nameOrPrefix: string): Promise<WorkflowCandidate[]> {
  const names = (await entityNames(s, "Workflows")).filter((n) => n.startsWith(nameOrPrefix)).sort();
  const out: WorkflowCandidate[] = [];
  for (const name of names) {
    const latest = await latestOf(s, "Workflows", name);
    const created = latest?.closure?.createdAt;
    if (latest !== undefined)
      out.push({
        name,
        latestVersion: latest.id?.version ?? "",
        createdAt:
          created === undefined
            ? undefined
            : new Date(Number(created.seconds) * 1000 + Math.floor(created.nanos / 1e6)),
      });
  }
  return out;
}

/**
 * The launch plan named `launchPlan` that launches workflow `workflow` at `version` (its latest version when not
 * given): the launch plan of the same version when it launches that workflow version, else the newest version of
 * that name that does. Fails naming what exists when the workflow version or such a launch plan does not.
 */
export async function launchPlanOfWorkflow(
  s: Scope,
  workflow: string,
  version: string | undefined,
  launchPlan: string,
): Promise<LaunchPlan> {
  const wfVersion = await resolveVersion(s, "Workflows", workflow, version);
  const where = `in project ${s.project}, domain ${s.domain}`;
  await s.client
    .getWorkflow({
      id: {
        resourceType: ResourceType.WORKFLOW,
        project: s.project,
        domain: s.domain,
        name: workflow,
        version: wfVersion,
      },
    })
    .catch(async (err: unknown) => {
      if (!(err instanceof EntityNotFoundError)) throw err;
      const latest = (await latestOf(s, "Workflows", workflow))?.id?.version;
      throw latest === undefined
        ? await nameNotFound(s, "Workflows", workflow)
        : new NameNotFoundError(
            `workflow "${workflow}" has no version "${wfVersion}" ${where} (its latest is "${latest}")`,
          );
    });
  const versions: LaunchPlan[] = [];
  for await (const lp of s.client.listLaunchPlansAll({
    project: s.project,
    domain: s.domain,
    name: launchPlan,
    sortBy: { key: "created_at", direction: Sort_Direction.DESCENDING },
  }))
    versions.push(lp);
  const launches = (lp: LaunchPlan) =>
    lp.spec?.workflowId?.name === workflow && lp.spec.workflowId.version === wfVersion;
  const found =
    versions.find((lp) => lp.id?.version === wfVersion && launches(lp)) ?? versions.find(launches);
  if (found !== undefined) return found;
  if (versions.length === 0) {
    const suggestions = closeNames(launchPlan, await entityNames(s, "LaunchPlans").catch(() => []));
    throw new NameNotFoundError(
      `no launch plan named "${launchPlan}" ${where}${didYouMean(suggestions)}`,
      suggestions,
    );
  }
  const targets = [
    ...new Set(versions.map((lp) => `${lp.spec?.workflowId?.name}@${lp.spec?.workflowId?.version}`)),
  ];
  throw new NameNotFoundError(
    `launch plan "${launchPlan}" does not launch workflow "${workflow}" version "${wfVersion}" ${where}: its versions launch ${targets.slice(0, 5).join(", ")}${targets.length > 5 ? ", …" : ""}`,
  );
}
