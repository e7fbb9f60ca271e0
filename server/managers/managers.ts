// Builds every manager over one knex instance; the composition root owns the result.
import type { Knex } from "knex";
import { CompilePool } from "../compiler/compile-pool.js";
import type { PetrelConfig } from "../config.js";
import { outboxPolicy } from "../notifications/notification-service.js";
import type { DataStore } from "../repositories/data-store.js";
import type { HmacUrlSigner } from "../storage/signed-urls.js";
import { AttributesManager } from "./attributes-manager.js";
import { DataProxyManager } from "./data-proxy-manager.js";
import { EventManager } from "./event-manager.js";
import { ExecutionLauncher } from "./execution-launcher.js";
import { ExecutionManager } from "./execution-manager.js";
import { LaunchPlanManager } from "./launch-plan-manager.js";
import { MetricsManager } from "./metrics-manager.js";
import { NamedEntityManager } from "./named-entity-manager.js";
import { NodeExecutionManager } from "./node-execution-manager.js";
import { ProjectManager } from "./project-manager.js";
import { SignalManager } from "./signal-manager.js";
import { SingleTaskLauncher } from "./single-task-launcher.js";
import { TaskManager } from "./task-manager.js";
import { WorkflowManager } from "./workflow-manager.js";

export interface Managers {
  readonly data: DataStore;
  readonly projects: ProjectManager;
  readonly tasks: TaskManager;
  readonly workflows: WorkflowManager;
  readonly launchPlans: LaunchPlanManager;
  readonly namedEntities: NamedEntityManager;
  readonly attributes: AttributesManager;
  readonly launcher: ExecutionLauncher;
  readonly executions: ExecutionManager;
  readonly events: EventManager;
  readonly nodeExecutions: NodeExecutionManager;
  readonly dataProxy: DataProxyManager;
  readonly metrics: MetricsManager;
  readonly signals: SignalManager;
  /** Compiles workflows off the main thread (registration, and the engine's dynamic workflows). */
  readonly compiler: CompilePool;
  /** Stops what the managers run besides the database (the compiler's worker thread). */
  close(): Promise<void>;
}

/** `signer` signs the directory listings DataProxyService hands out, whichever the store (storage/blob-listing.ts). */
export function createManagers(
  db: Knex,
  config: PetrelConfig,
  data: DataStore,
  signer: Pick<HmacUrlSigner, "signList">,
): Managers {
  const projects = new ProjectManager(db, config.domains);
  const compiler = new CompilePool();
  const workflows = new WorkflowManager(db, projects, compiler);
  const launchPlans = new LaunchPlanManager(db, projects);
  const attributes = new AttributesManager(db, projects);
  const launcher = new ExecutionLauncher(
    db,
    projects,
    attributes,
    new SingleTaskLauncher(db, workflows, launchPlans),
    data,
  );
  const limits = { maxInlineBytes: config.maxInlineDataBytes, urlExpiresMs: config.downloadMaxExpiresMs };
  const executions = new ExecutionManager(db, data, launcher, limits);
  const nodeExecutions = new NodeExecutionManager(db, data, executions, limits);
  return {
    data,
    projects,
    tasks: new TaskManager(db, projects),
    workflows,
    launchPlans,
    namedEntities: new NamedEntityManager(db),
    attributes,
    launcher,
    executions,
    events: new EventManager(db, data, config.engine, outboxPolicy(config)),
    nodeExecutions,
    dataProxy: new DataProxyManager(nodeExecutions, data.blobs, config, signer),
    metrics: new MetricsManager(db, executions),
    signals: new SignalManager(db),
    compiler,
    close: () => compiler.stop(),
  };
}
