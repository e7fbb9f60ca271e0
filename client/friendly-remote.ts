// FriendlyRemote: domain verbs over the SynchronousClient for one project and domain — fetch the latest version,
// execute by reference with plain TS inputs, wait on the watch stream, read typed outputs, steer executions.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { Sort_Direction } from "../gen/flyteidl/admin/common_pb.js";
import { type Execution, ExecutionMetadata_ExecutionMode } from "../gen/flyteidl/admin/execution_pb.js";
import type { LaunchPlan, LaunchPlanCreateRequestSchema } from "../gen/flyteidl/admin/launch_plan_pb.js";
import { LaunchPlanState } from "../gen/flyteidl/admin/launch_plan_pb.js";
import type { NodeExecution } from "../gen/flyteidl/admin/node_execution_pb.js";
import type { Signal } from "../gen/flyteidl/admin/signal_pb.js";
import type { TaskExecution } from "../gen/flyteidl/admin/task_execution_pb.js";
import type { Task, TaskCreateRequestSchema } from "../gen/flyteidl/admin/task_pb.js";
import type { Workflow, WorkflowCreateRequestSchema } from "../gen/flyteidl/admin/workflow_pb.js";
import { WorkflowExecution_Phase as Phase } from "../gen/flyteidl/core/execution_pb.js";
import { type Identifier, IdentifierSchema, ResourceType } from "../gen/flyteidl/core/identifier_pb.js";
import type { LiteralType } from "../gen/flyteidl/core/types_pb.js";
import type { WatchEvent } from "../gen/petrel/v1/watch_pb.js";
import { EntityAlreadyExistsError, EntityNotFoundError } from "./errors.js";
import { loadProfile } from "./profiles.js";
import { type ConnectOptions, SynchronousClient } from "./synchronous-client.js";
import { fromLiteralMap, toLiteral, toLiteralMap } from "./type-engine.js";

const TERMINAL = new Set([Phase.SUCCEEDED, Phase.FAILED, Phase.ABORTED, Phase.TIMED_OUT]);

export type Target =
  | { readonly launchPlan: string; readonly version?: string }
  | { readonly workflow: string; readonly version?: string }
  | { readonly task: string; readonly version?: string };

export interface ExecuteOptions {
  /** Called with every execution, node and task phase change while waiting (implies `wait`). */
  readonly onProgress?: (event: WatchEvent) => void;
  readonly wait?: boolean;
  readonly name?: string;
  readonly namePrefix?: string;
  readonly labels?: Record<string, string>;
  readonly envs?: Record<string, string>;
  readonly overwriteCache?: boolean;
  readonly maxParallelism?: number;
}

export class ExecutionTimeoutError extends Error {}

export type Registrable =
  | { readonly task: MessageInitShape<typeof TaskCreateRequestSchema> }
  | {
      readonly workflow: MessageInitShape<typeof WorkflowCreateRequestSchema>;
      readonly defaultLaunchPlan?: boolean;
    }
  | { readonly launchPlan: MessageInitShape<typeof LaunchPlanCreateRequestSchema> };

export class ExecutionHandle {
  constructor(
    private readonly remote: FriendlyRemote,
    public execution: Execution,
  ) {}

  get name(): string {
    return this.execution.id?.name ?? "";
  }
  get phase(): Phase {
    return this.execution.closure?.phase ?? Phase.UNDEFINED;
  }
  get isDone(): boolean {
    return TERMINAL.has(this.phase);
  }
  get error(): string | undefined {
    const r = this.execution.closure?.outputResult;
    return r?.case === "error" ? r.value.message : undefined;
  }

  async outputs(): Promise<Record<string, unknown>> {
    return fromLiteralMap((await this.remote.client.getExecutionData({ id: this.execution.id })).fullOutputs);
  }

  async inputs(): Promise<Record<string, unknown>> {
    return fromLiteralMap((await this.remote.client.getExecutionData({ id: this.execution.id })).fullInputs);
  }

  /** Waits on the watch stream until a terminal phase (or the timeout, which throws naming the execution). */
  async wait(opts: { timeoutMs?: number } = {}): Promise<this> {
    const abort = new AbortController();
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => abort.abort(), opts.timeoutMs);
    try {
      for await (const e of this.remote.client.watchExecution(
        { id: this.execution.id },
        { signal: abort.signal },
      )) {
        if (e.kind.case === "execution") this.execution = e.kind.value;
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    if (!this.isDone) {
      await this.sync();
      if (!this.isDone)
        throw new ExecutionTimeoutError(`execution ${this.name} did not finish within ${opts.timeoutMs} ms`);
    }
    return this;
  }

  /** Every phase change of the execution, its nodes and task attempts, until it finishes. */
  async *watch(): AsyncGenerator<WatchEvent> {
    for await (const e of this.remote.client.watchExecution({ id: this.execution.id })) {
      if (e.kind.case === "execution") this.execution = e.kind.value;
      yield e;
    }
  }

  /** Refreshes the execution; with `nodes`, also every node execution (recursively under parents) and attempts. */
  async sync(opts: { nodes?: boolean } = {}): Promise<this> {
    this.execution = await this.remote.client.getExecution({ id: this.execution.id });
    if (opts.nodes === true) this.nodes = await this.listNodes("");
    return this;
  }

  /** Node executions from the last `sync({ nodes: true })`. */
  nodes: NodeInfo[] = [];

  private async listNodes(parent: string): Promise<NodeInfo[]> {
    const out: NodeInfo[] = [];
    const c = this.remote.client;
    for await (const node of c.listNodeExecutionsAll({
      workflowExecutionId: this.execution.id,
      uniqueParentId: parent,
    })) {
      const id = node.id?.nodeId ?? "";
      const attempts = await c.listTaskExecutionsAll({ nodeExecutionId: node.id });
      const taskExecutions = [];
      for await (const a of attempts) taskExecutions.push(a);
      const children = node.metadata?.isParentNode === true ? await this.listNodes(id) : [];
      out.push({ node, taskExecutions, children });
    }
    return out;
  }
}

export interface NodeInfo {
  readonly node: NodeExecution;
  readonly taskExecutions: TaskExecution[];
  /** Nodes under this one (branch cases, sub-workflow and array children). */
  readonly children: NodeInfo[];
}

export class FriendlyRemote {
  private constructor(
    readonly client: SynchronousClient,
    readonly project: string,
    readonly domain: string,
  ) {}

  static forEndpoint(
    endpoint: string,
    opts: Omit<ConnectOptions, "endpoint"> & { project: string; domain: string },
  ): FriendlyRemote {
    const { project, domain, ...rest } = opts;
    return new FriendlyRemote(SynchronousClient.connect({ endpoint, ...rest }), project, domain);
  }

  /** From a named profile in ~/.petrel/config.yaml (the current one when no name is given). */
  static fromConfig(profile?: string, file?: string): FriendlyRemote {
    const p = loadProfile(profile, file);
    return FriendlyRemote.forEndpoint(p.endpoint, {
      project: p.project,
      domain: p.domain,
      ...(p.insecure === undefined ? {} : { insecure: p.insecure }),
      ...(p.token === undefined ? {} : { token: p.token }),
    });
  }

  private id(resourceType: ResourceType, name: string, version: string): Identifier {
    return create(IdentifierSchema, {
      resourceType,
      project: this.project,
      domain: this.domain,
      name,
      version,
    });
  }

  /** The given version, or the latest one (newest first by creation, as flytekit does). */
  private async version(
    kind: "Tasks" | "Workflows" | "LaunchPlans",
    name: string,
    version?: string,
  ): Promise<string> {
    if (version !== undefined && version !== "latest") return version;
    const page = await this.client[`list${kind}Paginated`]({
      project: this.project,
      domain: this.domain,
      name,
      limit: 1,
      sortBy: { key: "created_at", direction: Sort_Direction.DESCENDING },
    });
    const latest = page.items[0]?.id?.version;
    if (latest === undefined)
      throw new EntityNotFoundError(
        Code.NotFound,
        `Named entity ${this.project}/${this.domain}/${name} not found`,
        undefined,
      );
    return latest;
  }

  async fetchTask(name: string, version?: string): Promise<Task> {
    return this.client.getTask({
      id: this.id(ResourceType.TASK, name, await this.version("Tasks", name, version)),
    });
  }

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

  async fetchExecution(name: string): Promise<ExecutionHandle> {
    return new ExecutionHandle(
      this,
      await this.client.getExecution({ id: { project: this.project, domain: this.domain, name } }),
    );
  }

  /** Resolves the target to a launch plan (or task) id and the types its inputs must have. */
  private async resolve(
    target: Target,
  ): Promise<{ id: Identifier; types: Record<string, LiteralType | undefined> }> {
    if ("task" in target) {
      const task = await this.fetchTask(target.task, target.version);
      const vars = task.closure?.compiledTask?.template?.interface?.inputs?.variables ?? {};
      return {
        id: task.id ?? this.id(ResourceType.TASK, target.task, ""),
        types: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.type])),
      };
    }
    const name = "launchPlan" in target ? target.launchPlan : target.workflow;
    const lp = await this.fetchLaunchPlan(name, target.version);
    const params = lp.closure?.expectedInputs?.parameters ?? {};
    return {
      id: lp.id ?? this.id(ResourceType.LAUNCH_PLAN, name, ""),
      types: Object.fromEntries(Object.entries(params).map(([k, p]) => [k, p.var?.type])),
    };
  }

  async execute(
    target: Target,
    inputs: Record<string, unknown> = {},
    opts: ExecuteOptions = {},
  ): Promise<ExecutionHandle> {
    const { id, types } = await this.resolve(target);
    const literals = toLiteralMap(inputs, types);
    const name =
      opts.name ??
      (opts.namePrefix === undefined
        ? ""
        : `${opts.namePrefix}-${crypto.randomUUID().replace(/-/g, "").slice(0, 19)}`);
    const res = await this.client.createExecution({
      project: this.project,
      domain: this.domain,
      name,
      inputs: literals,
      spec: {
        launchPlan: id,
        metadata: { mode: ExecutionMetadata_ExecutionMode.MANUAL },
        ...(opts.labels === undefined ? {} : { labels: { values: opts.labels } }),
        ...(opts.envs === undefined
          ? {}
          : { envs: { values: Object.entries(opts.envs).map(([key, value]) => ({ key, value })) } }),
        overwriteCache: opts.overwriteCache === true,
        maxParallelism: opts.maxParallelism ?? 0,
      },
    });
    const handle = new ExecutionHandle(this, await this.client.getExecution({ id: res.id }));
    if (opts.onProgress !== undefined) {
      for await (const e of handle.watch()) opts.onProgress(e);
      return handle.sync();
    }
    return opts.wait === true ? handle.wait() : handle;
  }

  /**
   * Registers a task, a workflow (with its default launch plan: same name and version, as flytekit does) or a
   * launch plan. Identical re-registration (ALREADY_EXISTS) counts as success.
   */
  async register(entity: Registrable): Promise<void> {
    const ok = (err: unknown) => {
      if (!(err instanceof EntityAlreadyExistsError)) throw err;
    };
    if ("task" in entity) {
      await this.client.createTask(entity.task).catch(ok);
    } else if ("workflow" in entity) {
      await this.client.createWorkflow(entity.workflow).catch(ok);
      const id = entity.workflow.id;
      if (id !== undefined && entity.defaultLaunchPlan !== false) {
        const lpId = { ...id, resourceType: ResourceType.LAUNCH_PLAN };
        await this.client.createLaunchPlan({ id: lpId, spec: { workflowId: id } }).catch(ok);
      }
    } else {
      await this.client.createLaunchPlan(entity.launchPlan).catch(ok);
    }
  }

  async terminate(exe: ExecutionHandle, cause: string): Promise<void> {
    await this.client.terminateExecution({ id: exe.execution.id, cause });
  }

  async relaunch(exe: ExecutionHandle): Promise<ExecutionHandle> {
    const res = await this.client.relaunchExecution({ id: exe.execution.id });
    return new ExecutionHandle(this, await this.client.getExecution({ id: res.id }));
  }

  async recover(exe: ExecutionHandle): Promise<ExecutionHandle> {
    const res = await this.client.recoverExecution({ id: exe.execution.id });
    return new ExecutionHandle(this, await this.client.getExecution({ id: res.id }));
  }

  async listSignals(exe: ExecutionHandle): Promise<Signal[]> {
    return (await this.client.listSignals({ workflowExecutionId: exe.execution.id, limit: 100 })).signals;
  }

  async approve(signalId: string, exe: ExecutionHandle): Promise<void> {
    await this.setSignal(signalId, exe, true, undefined);
  }

  async reject(signalId: string, exe: ExecutionHandle): Promise<void> {
    await this.setSignal(signalId, exe, false, undefined);
  }

  /** Sets a signal's value, converted with the signal's declared type unless one is given. */
  async setInput(signalId: string, exe: ExecutionHandle, value: unknown, type?: LiteralType): Promise<void> {
    await this.setSignal(signalId, exe, value, type);
  }

  private async setSignal(
    signalId: string,
    exe: ExecutionHandle,
    value: unknown,
    type: LiteralType | undefined,
  ): Promise<void> {
    const declared = type ?? (await this.listSignals(exe)).find((s) => s.id?.signalId === signalId)?.type;
    await this.client.setSignal({
      id: { signalId, executionId: exe.execution.id },
      value: toLiteral(value, declared, signalId),
    });
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
}
