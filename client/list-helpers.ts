// list<X>Paginated ({ items, token }) and list<X>All (an async iterator that follows tokens to the end) for every
// list rpc. Requests take the rpc's own fields; lists keyed by a NamedEntityIdentifier (`id`) also accept
// project/domain/name at the top level. The page size defaults to 100, as in flytekit.
import type { Client } from "@connectrpc/connect";
import type { AdminService } from "../gen/flyteidl/service/admin_pb.js";
import type { SignalService } from "../gen/flyteidl/service/signal_pb.js";

type Rpcs = Client<typeof AdminService> & Client<typeof SignalService>;
type ReqOf<K extends keyof Rpcs> = NonNullable<Parameters<Rpcs[K]>[0]>;
type ResOf<K extends keyof Rpcs> = Awaited<ReturnType<Rpcs[K]>>;
type ItemOf<K extends keyof Rpcs, F extends keyof ResOf<K>> = ResOf<K>[F] extends readonly (infer T)[]
  ? T
  : never;

/** Top-level project/domain/name, folded into the request's `id`. */
export interface FlatIds {
  readonly project?: string;
  readonly domain?: string;
  readonly name?: string;
}

export interface Page<T> {
  readonly items: T[];
  readonly token: string;
}

type ListReq<K extends keyof Rpcs, Flat extends boolean> = Omit<ReqOf<K>, "limit"> & {
  limit?: number;
} & (Flat extends true ? FlatIds : unknown);

export interface ListHelpers {
  listProjectsPaginated(
    req?: ListReq<"listProjects", false>,
  ): Promise<Page<ItemOf<"listProjects", "projects">>>;
  listProjectsAll(req?: ListReq<"listProjects", false>): AsyncGenerator<ItemOf<"listProjects", "projects">>;
  listTasksPaginated(req?: ListReq<"listTasks", true>): Promise<Page<ItemOf<"listTasks", "tasks">>>;
  listTasksAll(req?: ListReq<"listTasks", true>): AsyncGenerator<ItemOf<"listTasks", "tasks">>;
  listTaskIdsPaginated(req?: ListReq<"listTaskIds", false>): Promise<Page<ItemOf<"listTaskIds", "entities">>>;
  listTaskIdsAll(req?: ListReq<"listTaskIds", false>): AsyncGenerator<ItemOf<"listTaskIds", "entities">>;
  listWorkflowsPaginated(
    req?: ListReq<"listWorkflows", true>,
  ): Promise<Page<ItemOf<"listWorkflows", "workflows">>>;
  listWorkflowsAll(
    req?: ListReq<"listWorkflows", true>,
  ): AsyncGenerator<ItemOf<"listWorkflows", "workflows">>;
  listWorkflowIdsPaginated(
    req?: ListReq<"listWorkflowIds", false>,
  ): Promise<Page<ItemOf<"listWorkflowIds", "entities">>>;
  listWorkflowIdsAll(
    req?: ListReq<"listWorkflowIds", false>,
  ): AsyncGenerator<ItemOf<"listWorkflowIds", "entities">>;
  listLaunchPlansPaginated(
    req?: ListReq<"listLaunchPlans", true>,
  ): Promise<Page<ItemOf<"listLaunchPlans", "launchPlans">>>;
  listLaunchPlansAll(
    req?: ListReq<"listLaunchPlans", true>,
  ): AsyncGenerator<ItemOf<"listLaunchPlans", "launchPlans">>;
  listLaunchPlanIdsPaginated(
    req?: ListReq<"listLaunchPlanIds", false>,
  ): Promise<Page<ItemOf<"listLaunchPlanIds", "entities">>>;
  listLaunchPlanIdsAll(
    req?: ListReq<"listLaunchPlanIds", false>,
  ): AsyncGenerator<ItemOf<"listLaunchPlanIds", "entities">>;
  listActiveLaunchPlansPaginated(
    req?: ListReq<"listActiveLaunchPlans", false>,
  ): Promise<Page<ItemOf<"listActiveLaunchPlans", "launchPlans">>>;
  listActiveLaunchPlansAll(
    req?: ListReq<"listActiveLaunchPlans", false>,
  ): AsyncGenerator<ItemOf<"listActiveLaunchPlans", "launchPlans">>;
  listExecutionsPaginated(
    req?: ListReq<"listExecutions", true>,
  ): Promise<Page<ItemOf<"listExecutions", "executions">>>;
  listExecutionsAll(
    req?: ListReq<"listExecutions", true>,
  ): AsyncGenerator<ItemOf<"listExecutions", "executions">>;
  listNodeExecutionsPaginated(
    req?: ListReq<"listNodeExecutions", false>,
  ): Promise<Page<ItemOf<"listNodeExecutions", "nodeExecutions">>>;
  listNodeExecutionsAll(
    req?: ListReq<"listNodeExecutions", false>,
  ): AsyncGenerator<ItemOf<"listNodeExecutions", "nodeExecutions">>;
  listNodeExecutionsForTaskPaginated(
    req?: ListReq<"listNodeExecutionsForTask", false>,
  ): Promise<Page<ItemOf<"listNodeExecutionsForTask", "nodeExecutions">>>;
  listNodeExecutionsForTaskAll(
    req?: ListReq<"listNodeExecutionsForTask", false>,
  ): AsyncGenerator<ItemOf<"listNodeExecutionsForTask", "nodeExecutions">>;
  listTaskExecutionsPaginated(
    req?: ListReq<"listTaskExecutions", false>,
  ): Promise<Page<ItemOf<"listTaskExecutions", "taskExecutions">>>;
  listTaskExecutionsAll(
    req?: ListReq<"listTaskExecutions", false>,
  ): AsyncGenerator<ItemOf<"listTaskExecutions", "taskExecutions">>;
  listNamedEntitiesPaginated(
    req?: ListReq<"listNamedEntities", false>,
  ): Promise<Page<ItemOf<"listNamedEntities", "entities">>>;
  listNamedEntitiesAll(
    req?: ListReq<"listNamedEntities", false>,
  ): AsyncGenerator<ItemOf<"listNamedEntities", "entities">>;
  listDescriptionEntitiesPaginated(
    req?: ListReq<"listDescriptionEntities", false>,
  ): Promise<Page<ItemOf<"listDescriptionEntities", "descriptionEntities">>>;
  listDescriptionEntitiesAll(
    req?: ListReq<"listDescriptionEntities", false>,
  ): AsyncGenerator<ItemOf<"listDescriptionEntities", "descriptionEntities">>;
  listSignalsPaginated(req?: ListReq<"listSignals", false>): Promise<Page<ItemOf<"listSignals", "signals">>>;
  listSignalsAll(req?: ListReq<"listSignals", false>): AsyncGenerator<ItemOf<"listSignals", "signals">>;
}

const SPECS: ReadonlyArray<readonly [string, keyof Rpcs, string, boolean]> = [
  ["Projects", "listProjects", "projects", false],
  ["Tasks", "listTasks", "tasks", true],
  ["TaskIds", "listTaskIds", "entities", false],
  ["Workflows", "listWorkflows", "workflows", true],
  ["WorkflowIds", "listWorkflowIds", "entities", false],
  ["LaunchPlans", "listLaunchPlans", "launchPlans", true],
  ["LaunchPlanIds", "listLaunchPlanIds", "entities", false],
  ["ActiveLaunchPlans", "listActiveLaunchPlans", "launchPlans", false],
  ["Executions", "listExecutions", "executions", true],
  ["NodeExecutions", "listNodeExecutions", "nodeExecutions", false],
  ["NodeExecutionsForTask", "listNodeExecutionsForTask", "nodeExecutions", false],
  ["TaskExecutions", "listTaskExecutions", "taskExecutions", false],
  ["NamedEntities", "listNamedEntities", "entities", false],
  ["DescriptionEntities", "listDescriptionEntities", "descriptionEntities", false],
  ["Signals", "listSignals", "signals", false],
];

function request(req: Record<string, unknown>, flat: boolean): Record<string, unknown> {
  const { project, domain, name, ...rest } = req;
  const out: Record<string, unknown> = { limit: 100, ...rest };
  if (flat && (project !== undefined || domain !== undefined || name !== undefined)) {
    out.id = { ...(rest.id as object | undefined), project, domain, ...(name === undefined ? {} : { name }) };
  } else if (!flat) {
    Object.assign(out, project === undefined ? {} : { project }, domain === undefined ? {} : { domain });
    if (name !== undefined) out.name = name;
  }
  return out;
}

export function listHelpers(rpcs: Rpcs): ListHelpers {
  const helpers: Record<string, unknown> = {};
  for (const [name, rpc, items, flat] of SPECS) {
    const call = rpcs[rpc] as unknown as (r: Record<string, unknown>) => Promise<Record<string, unknown>>;
    const paginated = async (req: Record<string, unknown> = {}) => {
      const res = await call(request(req, flat));
      return { items: res[items] as unknown[], token: res.token as string };
    };
    helpers[`list${name}Paginated`] = paginated;
    helpers[`list${name}All`] = async function* (req: Record<string, unknown> = {}) {
      let token = (req.token as string | undefined) ?? "";
      do {
        const page = await paginated({ ...req, token });
        yield* page.items;
        token = page.token;
      } while (token !== "");
    };
  }
  return helpers as unknown as ListHelpers;
}
