// FriendlyRemote: domain verbs over the SynchronousClient for one project and domain — register DSL entities,
// fetch the latest version, execute with plain TS inputs (serving this process's TS tasks), wait on the watch
// stream, read typed outputs, steer executions, backfill schedules, upload and download files.
import path from "node:path";
import { clone, create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { Sort_Direction } from "../gen/flyteidl/admin/common_pb.js";
import { ExecutionMetadata_ExecutionMode } from "../gen/flyteidl/admin/execution_pb.js";
import type { LaunchPlan, LaunchPlanCreateRequestSchema } from "../gen/flyteidl/admin/launch_plan_pb.js";
import { LaunchPlanState } from "../gen/flyteidl/admin/launch_plan_pb.js";
import type { Project } from "../gen/flyteidl/admin/project_pb.js";
import type { Signal } from "../gen/flyteidl/admin/signal_pb.js";
import type { Task, TaskCreateRequestSchema } from "../gen/flyteidl/admin/task_pb.js";
import type { Workflow, WorkflowCreateRequestSchema } from "../gen/flyteidl/admin/workflow_pb.js";
import {
  type Identifier,
  IdentifierSchema,
  ResourceType,
  type WorkflowExecutionIdentifier,
} from "../gen/flyteidl/core/identifier_pb.js";
import { type Blob, type Literal, LiteralSchema } from "../gen/flyteidl/core/literals_pb.js";
import type { Span } from "../gen/flyteidl/core/metrics_pb.js";
import type { LiteralType } from "../gen/flyteidl/core/types_pb.js";
import type { WatchEvent } from "../gen/petrel/v1/watch_pb.js";
import { type Backfill, type BackfillOptions, planBackfill } from "./backfill.js";
import { downloadBlob } from "./blob-downloads.js";
import { blobsOf, isMultipart, launchPlanLiterals } from "./blob-literals.js";
import { localBlobKey, type TransferOptions, uploadLocalBlobs, uploadPath } from "./blob-uploads.js";
import { type Entity, isEntity, type Registration, serialize } from "./dsl/serialize.js";
import { EntityAlreadyExistsError, EntityNotFoundError } from "./errors.js";
import { ExecutionHandle } from "./execution-handle.js";
import { type InProcessOptions, startInProcess } from "./in-process.js";
import { loadProfile } from "./profiles.js";
import { type ConnectOptions, SynchronousClient } from "./synchronous-client.js";
import { type ExecuteTarget, resolveTarget, type Target } from "./targets.js";
import { TypeMismatchError, toLiteral, toLiteralMap } from "./type-engine.js";
import { type TaskFunction, Worker } from "./worker.js";

export interface ExecuteOptions {
  /** Called with every execution, node and task phase change while waiting (implies `wait`). */
  readonly onProgress?: (event: WatchEvent) => void;
  readonly wait?: boolean;
  readonly name?: string;
  readonly namePrefix?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly envs?: Record<string, string>;
  readonly overwriteCache?: boolean;
  readonly maxParallelism?: number;
  /** DSL targets: the version to register under (default: derived from the content). */
  readonly version?: string;
  /**
   * DSL targets: run the workflow's TypeScript function tasks in this process until the execution finishes
   * (default true; set false when workers serve them elsewhere).
   */
  readonly serveTasks?: boolean;
}

export type Registrable =
  | { readonly task: MessageInitShape<typeof TaskCreateRequestSchema> }
  | {
      readonly workflow: MessageInitShape<typeof WorkflowCreateRequestSchema>;
      readonly defaultLaunchPlan?: boolean;
    }
  | { readonly launchPlan: MessageInitShape<typeof LaunchPlanCreateRequestSchema> };

const ignoreExisting = (err: unknown) => {
  if (!(err instanceof EntityAlreadyExistsError)) throw err;
};

export class FriendlyRemote {
  private readonly workers = new Set<Worker>();
  private readonly closers: (() => Promise<void>)[] = [];

  constructor(
    readonly client: SynchronousClient,
    readonly project: string,
    readonly domain: string,
  ) {}

  /** Runs `fn` when the remote closes (in-process servers). */
  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  /** Stops the workers this remote started and, for `inProcess()`, the server. */
  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.stop()));
    this.workers.clear();
    for (const c of this.closers.splice(0).reverse()) await c();
  }

  static forEndpoint(
    endpoint: string,
    opts: Omit<ConnectOptions, "endpoint"> & { project: string; domain: string },
  ): FriendlyRemote {
    const { project, domain, ...rest } = opts;
    return new FriendlyRemote(SynchronousClient.connect({ endpoint, ...rest }), project, domain);
  }

  /**
   * A whole Petrel server in this process (embedded Postgres, temporary unless `home` is given), with the
   * project registered; `remote.close()` stops it.
   */
  static async inProcess(opts: InProcessOptions): Promise<FriendlyRemote> {
    const server = await startInProcess(opts);
    const remote = FriendlyRemote.forEndpoint(server.endpoint, {
      insecure: true,
      project: opts.project,
      domain: opts.domain,
    });
    remote.onClose(() => server.stop());
    try {
      await remote.client
        .registerProject({ project: { id: opts.project, name: opts.project } })
        .catch(ignoreExisting);
    } catch (err) {
      await remote.close();
      throw err;
    }
    return remote;
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

  /**
   * Runs a DSL entity (registered on the fly), a fetched entity or a reference by name (latest version unless
   * given) with plain TS inputs, checked against its interface first. A DSL workflow's TypeScript tasks are
   * served from this process until the execution finishes unless `serveTasks` is false.
   */
  async execute(
    target: ExecuteTarget,
    inputs: Record<string, unknown> = {},
    opts: ExecuteOptions = {},
  ): Promise<ExecutionHandle> {
    const resolved = await resolveTarget(this, target, opts.version);
    const literals = toLiteralMap(inputs, resolved.types);
    const missing = [...resolved.required].filter((k) => !(k in inputs));
    if (missing.length > 0)
      throw new TypeMismatchError(
        `missing required input${missing.length > 1 ? "s" : ""} ${missing.map((m) => `"${m}"`).join(", ")}`,
      );
    await uploadLocalBlobs(this.client, this, literals.literals);
    const name =
      opts.name ??
      (opts.namePrefix === undefined
        ? ""
        : `${opts.namePrefix}-${crypto.randomUUID().replace(/-/g, "").slice(0, 19)}`);
    const worker =
      resolved.functions.size > 0 && opts.serveTasks !== false ? this.serve(resolved.functions) : undefined;
    let handle: ExecutionHandle;
    try {
      const res = await this.client.createExecution({
        project: this.project,
        domain: this.domain,
        name,
        inputs: literals,
        spec: {
          launchPlan: resolved.id,
          metadata: { mode: ExecutionMetadata_ExecutionMode.MANUAL },
          ...(opts.labels === undefined ? {} : { labels: { values: opts.labels } }),
          ...(opts.annotations === undefined ? {} : { annotations: { values: opts.annotations } }),
          ...(opts.envs === undefined
            ? {}
            : { envs: { values: Object.entries(opts.envs).map(([key, value]) => ({ key, value })) } }),
          overwriteCache: opts.overwriteCache === true,
          maxParallelism: opts.maxParallelism ?? 0,
        },
      });
      handle = new ExecutionHandle(this, await this.client.getExecution({ id: res.id }));
    } catch (err) {
      if (worker !== undefined) await this.unserve(worker);
      throw err;
    }
    const waiting = opts.onProgress !== undefined || opts.wait === true;
    if (worker !== undefined && !waiting) {
      // Nobody waits here: keep serving the tasks until the execution ends, in the background.
      void new ExecutionHandle(this, handle.execution)
        .wait()
        .catch(() => undefined)
        .finally(() => this.unserve(worker));
      return handle;
    }
    try {
      if (opts.onProgress !== undefined) {
        for await (const e of handle.watch()) opts.onProgress(e);
        return await handle.sync();
      }
      return waiting ? await handle.wait() : handle;
    } finally {
      if (worker !== undefined) await this.unserve(worker);
    }
  }

  private serve(functions: ReadonlyMap<string, unknown>): Worker {
    const worker = new Worker({
      client: this.client,
      tasks: Object.fromEntries(functions) as Record<string, TaskFunction>,
      pollWaitMs: 1_000,
    }).start();
    this.workers.add(worker);
    return worker;
  }

  private async unserve(worker: Worker): Promise<void> {
    if (this.workers.delete(worker)) await worker.stop();
  }

  /**
   * Registers DSL entities with everything they use (tasks, sub-workflows, launch plans, each workflow's
   * default launch plan) under one version — given, or derived from the content — or a raw task, workflow
   * (with its default launch plan: same name and version, as flytekit does) or launch plan request.
   * Identical re-registration (ALREADY_EXISTS) counts as success.
   */
  async register(entity: Entity, opts?: { version?: string }): Promise<Registration>;
  async register(entity: Registrable): Promise<undefined>;
  async register(
    entity: Entity | Registrable,
    opts: { version?: string } = {},
  ): Promise<Registration | undefined> {
    if (isEntity(entity)) return this.registerAll([entity], opts);
    if ("task" in entity) {
      await this.client.createTask(entity.task).catch(ignoreExisting);
    } else if ("workflow" in entity) {
      await this.client.createWorkflow(entity.workflow).catch(ignoreExisting);
      const id = entity.workflow.id;
      if (id !== undefined && entity.defaultLaunchPlan !== false) {
        const lpId = { ...id, resourceType: ResourceType.LAUNCH_PLAN };
        await this.client.createLaunchPlan({ id: lpId, spec: { workflowId: id } }).catch(ignoreExisting);
      }
    } else {
      await this.client.createLaunchPlan(entity.launchPlan).catch(ignoreExisting);
    }
    return undefined;
  }

  /**
   * Registers several DSL entities (e.g. every export of a module) under one version. Launch plan inputs given as
   * local files or directories are uploaded first (the version derives from their content).
   */
  async registerAll(entities: readonly Entity[], opts: { version?: string } = {}): Promise<Registration> {
    const where = { project: this.project, domain: this.domain, ...opts };
    const probe = serialize(entities, where);
    // Copies: the launch plans' literals are the definitions' own.
    const lpInputs = Object.fromEntries(
      probe.launchPlans.flatMap((lp) =>
        Object.entries(launchPlanLiterals(lp)).map(([k, lit]) => [k, clone(LiteralSchema, lit)]),
      ),
    );
    const uploaded = await uploadLocalBlobs(this.client, this, lpInputs);
    const reg =
      uploaded.size === 0
        ? probe
        : serialize(entities, {
            ...where,
            blobUri: (uri, multipart) => uploaded.get(localBlobKey(uri, multipart)) ?? uri,
          });
    for (const x of reg.steps) {
      if ("task" in x) await this.client.createTask(x.task).catch(ignoreExisting);
      else if ("workflow" in x) await this.client.createWorkflow(x.workflow).catch(ignoreExisting);
      else await this.client.createLaunchPlan(x.launchPlan).catch(ignoreExisting);
    }
    return reg;
  }

  /**
   * Runs a scheduled launch plan once per schedule tick strictly between `from` and `to` (kickoff input = the
   * tick): one parent execution `backfill-<lp>` with a launch-plan node per tick, chained unless `parallel`.
   * With `dryRun` nothing is registered or run; the plan is returned.
   */
  async launchBackfill(opts: BackfillOptions): Promise<Backfill & { execution?: ExecutionHandle }> {
    const lp =
      typeof opts.launchPlan === "string"
        ? await this.fetchLaunchPlan(opts.launchPlan, opts.launchPlanVersion)
        : opts.launchPlan;
    const plan = planBackfill(lp, opts, this.project, this.domain);
    if (opts.dryRun === true) return plan;
    await this.register({ workflow: plan.workflow });
    const execution = await this.execute(
      { launchPlan: plan.workflow.id?.name ?? "", version: plan.version },
      {},
      {
        ...(opts.overwriteCache === undefined ? {} : { overwriteCache: opts.overwriteCache }),
      },
    );
    return { ...plan, execution };
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
    const literal = toLiteral(value, declared, signalId);
    await uploadLocalBlobs(this.client, this, { [signalId]: literal });
    await this.client.setSignal({ id: { signalId, executionId: exe.execution.id }, value: literal });
  }

  /**
   * Uploads a local file or directory to the server's store (FlyteRemote.upload_file; a directory as flytekit's
   * FlyteFS does) and returns its native URL, usable as a `t.file` / `t.directory` value. The same content always
   * lands at the same URL, so uploading again is harmless.
   */
  async upload(localPath: string, opts: TransferOptions = {}): Promise<string> {
    return uploadPath(this.client, this, path.resolve(localPath), opts);
  }

  /**
   * Downloads a file or directory — a URI (an output value), a Blob or a blob Literal — to `localPath` through the
   * server's signed URLs, and returns where it was written: a file into an existing directory keeps its name.
   */
  async download(
    source: string | Blob | Literal,
    localPath: string,
    opts: TransferOptions = {},
  ): Promise<string> {
    const blob = typeof source === "string" ? undefined : blobOfSource(source);
    const uri = typeof source === "string" ? source : (blob?.uri ?? "");
    const kind = blob === undefined ? undefined : isMultipart(blob) ? "directory" : "file";
    return (await downloadBlob(this.client, uri, path.resolve(localPath), kind, opts)).path;
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

  /** The execution's span tree (execution, nodes, task attempts) from recorded timings. */
  async getExecutionMetrics(exe: ExecutionHandle, depth = 10): Promise<Span | undefined> {
    return (await this.client.getExecutionMetrics({ id: exe.execution.id, depth })).span;
  }
}

function blobOfSource(source: Blob | Literal): Blob {
  if (source.$typeName === "flyteidl.core.Blob") return source;
  const found = blobsOf(source, "value");
  const only = found[0];
  if (found.length !== 1 || only === undefined || only.where !== "value")
    throw new TypeMismatchError("download: expected a file or directory literal (a blob)");
  return only.blob;
}

export type { ExecuteTarget, Target };
