// FriendlyRemote: domain verbs over the SynchronousClient for one project and domain — register DSL entities,
// fetch by name (remote-lookups.ts), execute with inputs and outputs typed by the DSL entity (launch.ts: serving
// this process's TS tasks, waiting with progress callbacks), steer executions, signals (signals.ts), backfill
// schedules, upload and download files.
import path from "node:path";
import { consoleBaseOf, type ExecutionRef, executionConsoleUrl } from "../common/console-urls.js";
import type { Signal } from "../gen/flyteidl/admin/signal_pb.js";
import type { Blob, Literal } from "../gen/flyteidl/core/literals_pb.js";
import type { Span } from "../gen/flyteidl/core/metrics_pb.js";
import type { LiteralType } from "../gen/flyteidl/core/types_pb.js";
import { type Backfill, type BackfillOptions, planBackfill } from "./backfill.js";
import { downloadBlob } from "./blob-downloads.js";
import { blobsOf, isMultipart } from "./blob-literals.js";
import { type TransferOptions, uploadPath } from "./blob-uploads.js";
import { type Entity, isEntity, type Registration } from "./dsl/serialize.js";
import type { ExecuteArgs, OutputsOf } from "./execute-types.js";
import { ExecutionHandle } from "./execution-handle.js";
import { type InProcessOptions, startInProcess } from "./in-process.js";
import { launch, TaskServing } from "./launch.js";
import { loadProfile } from "./profiles.js";
import { ignoreExisting, type Registrable, registerEntities, registerRequest } from "./registration.js";
import { RemoteLookups } from "./remote-lookups.js";
import { listExecutionSignals, setSignalValue } from "./signals.js";
import { type ConnectOptions, SynchronousClient } from "./synchronous-client.js";
import type { ExecuteTarget, Target } from "./targets.js";
import { TypeMismatchError } from "./type-engine.js";

/**
 * The friendly client of one project and domain: lookups by name (see RemoteLookups), execute with typed inputs and
 * outputs, register, steer and signal executions, backfill, upload and download.
 */
export class FriendlyRemote extends RemoteLookups {
  private readonly tasks = new TaskServing(this.client);
  private readonly closers: (() => Promise<void>)[] = [];

  /** Runs `fn` when the remote closes (in-process servers). */
  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  /** Stops the workers this remote started and, for `inProcess()`, the server. */
  async close(): Promise<void> {
    await this.tasks.stopAll();
    for (const c of this.closers.splice(0).reverse()) await c();
  }

  /**
   * A remote of `endpoint`. Its console links lead to `consoleUrl` when given (a base URL such as the server's
   * --public-url), else to the endpoint itself, as flytekit's do: Petrel's gRPC port serves the console too.
   */
  static forEndpoint(
    endpoint: string,
    opts: Omit<ConnectOptions, "endpoint"> & { project: string; domain: string; consoleUrl?: string },
  ): FriendlyRemote {
    const { project, domain, consoleUrl, ...rest } = opts;
    const consoleBase = consoleUrl ?? consoleBaseOf(endpoint, rest.insecure === true);
    return new FriendlyRemote(SynchronousClient.connect({ endpoint, ...rest }), project, domain, consoleBase);
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
      ...(p.caFile === undefined ? {} : { caFile: p.caFile }),
    });
  }

  /**
   * Runs a DSL entity (registered on the fly), a fetched entity or a reference by name (latest version unless
   * given; `{ workflow, version, launchPlan }` picks a launch plan of that workflow version by name) with plain TS
   * inputs, checked against its interface first. For DSL entities the check is also at compile time, and the
   * handle's `outputs()` is typed by the entity's outputs. A DSL workflow's TypeScript tasks are served from this
   * process until the execution finishes unless `serveTasks` is false. `wait`, `onProgress` and the progress
   * callbacks (`onRun`, `onNode`, `onTask`) return the handle once the execution has finished.
   */
  async execute<T extends ExecuteTarget>(
    target: T,
    ...[inputs, opts]: ExecuteArgs<T>
  ): Promise<ExecutionHandle<OutputsOf<T>>> {
    const handle = await launch(
      this,
      this.tasks,
      target,
      (inputs ?? {}) as Record<string, unknown>,
      opts ?? {},
    );
    return handle as ExecutionHandle<OutputsOf<T>>;
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
    await registerRequest(this.client, entity);
    return undefined;
  }

  /**
   * Registers several DSL entities (e.g. every export of a module) under one version. Launch plan inputs given as
   * local files or directories are uploaded first (the version derives from their content).
   */
  async registerAll(entities: readonly Entity[], opts: { version?: string } = {}): Promise<Registration> {
    return registerEntities(this, entities, opts);
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

  /**
   * The console page of an execution — a handle, an id, or a name in this project and domain —; undefined when the
   * remote does not know where the console is (one made from a bare client).
   */
  consoleUrl(execution: ExecutionRef | ExecutionHandle<object> | string): string | undefined {
    if (this.consoleBase === undefined) return undefined;
    const id =
      typeof execution === "string"
        ? { project: this.project, domain: this.domain, name: execution }
        : execution instanceof ExecutionHandle
          ? execution.id
          : execution;
    return executionConsoleUrl(this.consoleBase, id);
  }

  async terminate(exe: ExecutionHandle<object>, cause: string): Promise<void> {
    await this.client.terminateExecution({ id: exe.id, cause });
  }

  /** Runs the execution again with the same inputs (a new execution). */
  async relaunch<O extends object>(exe: ExecutionHandle<O>): Promise<ExecutionHandle<O>> {
    const res = await this.client.relaunchExecution({ id: exe.id });
    return new ExecutionHandle(this, await this.client.getExecution({ id: res.id }));
  }

  /** Runs a failed execution again, reusing the outputs of the nodes that succeeded. */
  async recover<O extends object>(exe: ExecutionHandle<O>): Promise<ExecutionHandle<O>> {
    const res = await this.client.recoverExecution({ id: exe.id });
    return new ExecutionHandle(this, await this.client.getExecution({ id: res.id }));
  }

  /** The signals the execution's gates have created so far (a gate creates its signal when reached). */
  async listSignals(exe: ExecutionHandle<object>): Promise<Signal[]> {
    return listExecutionSignals(this, exe);
  }

  /**
   * Waits until the execution (a handle, or an execution name in this project and domain) waits for `signalId`,
   * and returns the signal. Fails when the execution finishes first or after `timeoutMs` (default 60 s).
   */
  async waitForSignal(
    exe: ExecutionHandle<object> | string,
    signalId: string,
    opts: { timeoutMs?: number; pollIntervalMs?: number } = {},
  ): Promise<Signal> {
    const handle = typeof exe === "string" ? await this.fetchExecution(exe) : exe;
    return handle.waitForSignal(signalId, opts);
  }

  /** Approves a gate; SignalNotFoundError when the execution has no such signal (yet). */
  async approve(signalId: string, exe: ExecutionHandle<object>): Promise<void> {
    await setSignalValue(this, exe, signalId, true, undefined);
  }

  /** Rejects a gate (the execution fails); SignalNotFoundError when the execution has no such signal (yet). */
  async reject(signalId: string, exe: ExecutionHandle<object>): Promise<void> {
    await setSignalValue(this, exe, signalId, false, undefined);
  }

  /**
   * Sets a signal's value, converted with the signal's declared type unless one is given; SignalNotFoundError
   * when the execution has no such signal (yet).
   */
  async setInput(
    signalId: string,
    exe: ExecutionHandle<object>,
    value: unknown,
    type?: LiteralType,
  ): Promise<void> {
    await setSignalValue(this, exe, signalId, value, type);
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

  /** The execution's span tree (execution, nodes, task attempts) from recorded timings. */
  async getExecutionMetrics(exe: ExecutionHandle<object>, depth = 10): Promise<Span | undefined> {
    return (await this.client.getExecutionMetrics({ id: exe.id, depth })).span;
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

export type { ExecuteArgs, InputsOf, OutputsOf } from "./execute-types.js";
export type { WorkflowCandidate } from "./find-by-name.js";
export type { ExecuteOptions } from "./launch.js";
export type { Registrable } from "./registration.js";
export type { ExecuteTarget, Target };
