// The lookups of a FriendlyRemote in its project and domain: entities by name (the latest version unless one is
// given, close names suggested when none matches), workflow candidates by prefix, a workflow version's launch plan
// by name, executions, launch plan activation, projects.
import { create } from "@bufbuild/protobuf";
import { Sort_Direction } from "../gen/flyteidl/admin/common_pb.js";
import { type LaunchPlan, LaunchPlanState } from "../gen/flyteidl/admin/launch_plan_pb.js";
import type { Project } from "../gen/flyteidl/admin/project_pb.js";
import type { Task } from "../gen/flyteidl/admin/task_pb.js";
import type { Workflow } from "../gen/flyteidl/admin/workflow_pb.js";
import {
  type Identifier,
  IdentifierSchema,
  ResourceType,
  type WorkflowExecutionIdentifier,
} from "../gen/flyteidl/core/identifier_pb.js";
import { ExecutionHandle } from "./execution-handle.js";
import {
  findWorkflows,
  launchPlanOfWorkflow,
  resolveVersion,
  type WorkflowCandidate,
} from "./find-by-name.js";
import type { SynchronousClient } from "./synchronous-client.js";

export class RemoteLookups {
  constructor(
    readonly client: SynchronousClient,
    readonly project: string,
    readonly domain: string,
    /** Where the console is (its pages are under `<consoleBase>/console/`); unknown for a bare client. */
    readonly consoleBase?: string,
  ) {}

  /** An id in this remote's project and domain. */
  id(resourceType: ResourceType, name: string, version: string): Identifier {
    return create(IdentifierSchema, {
      resourceType,
      project: this.project,
      domain: this.domain,
      name,
      version,
    });
  }

  /** The given version, or the latest one (newest first by creation, as flytekit does). */
  protected version(kind: "Tasks" | "Workflows" | "LaunchPlans", name: string, version?: string) {
    return resolveVersion(this, kind, name, version);
  }

  async fetchTask(name: string, version?: string): Promise<Task> {
    return this.client.getTask({
      id: this.id(ResourceType.TASK, name, await this.version("Tasks", name, version)),
    });
  }

  /**
   * A workflow version (the latest when no version is given). A name with no workflow fails with a
   * NameNotFoundError naming the project and domain and suggesting close names.
   */
  async fetchWorkflow(name: string, version?: string): Promise<Workflow> {
    return this.client.getWorkflow({
      id: this.id(ResourceType.WORKFLOW, name, await this.version("Workflows", name, version)),
    });
  }

  async fetchLaunchPlan(name: string, version?: string): Promise<LaunchPlan> {
    return this.client.getLaunchPlan({
      id: this.id(ResourceType.LAUNCH_PLAN, name, await this.version("LaunchPlans", name, version)),
    });
  }

  /**
   * The launch plan named `launchPlan` that launches `workflow` at `version` (the workflow's latest when not given),
   * as Latch's launch_from_launch_plan(wf_name, version, lp_name). NameNotFoundError names what exists otherwise.
   */
  async fetchWorkflowLaunchPlan(
    workflow: string,
    version: string | undefined,
    launchPlan: string,
  ): Promise<LaunchPlan> {
    return launchPlanOfWorkflow(this, workflow, version, launchPlan);
  }

  /** Workflows named `nameOrPrefix` or starting with it, each with its latest version (sorted by name). */
  async findWorkflows(nameOrPrefix: string): Promise<WorkflowCandidate[]> {
    return findWorkflows(this, nameOrPrefix);
  }

  /** The launch plan version that is ACTIVE for this name (schedules run it). */
  async fetchActiveLaunchPlan(name: string): Promise<LaunchPlan> {
    return this.client.getActiveLaunchPlan({ id: { project: this.project, domain: this.domain, name } });
  }

  /** An execution by name (in this project and domain) or by its full id. */
  async fetchExecution(nameOrId: string | WorkflowExecutionIdentifier): Promise<ExecutionHandle> {
    const id =
      typeof nameOrId === "string"
        ? { project: this.project, domain: this.domain, name: nameOrId }
        : nameOrId;
    return new ExecutionHandle(this, await this.client.getExecution({ id }));
  }

  async activate(lp: LaunchPlan): Promise<void> {
    await this.client.updateLaunchPlan({ id: lp.id, state: LaunchPlanState.ACTIVE });
  }

  async deactivate(lp: LaunchPlan): Promise<void> {
    await this.client.updateLaunchPlan({ id: lp.id, state: LaunchPlanState.INACTIVE });
  }

  async recentExecutions(opts: { limit?: number; filters?: string } = {}): Promise<ExecutionHandle[]> {
    const page = await this.client.listExecutionsPaginated({
      project: this.project,
      domain: this.domain,
      limit: opts.limit ?? 100,
      filters: opts.filters ?? "",
      sortBy: { key: "created_at", direction: Sort_Direction.DESCENDING },
    });
    return page.items.map((e) => new ExecutionHandle(this, e));
  }

  async listProjects(): Promise<Project[]> {
    const out: Project[] = [];
    for await (const p of this.client.listProjectsAll({})) out.push(p);
    return out;
  }
}
