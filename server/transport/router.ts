// Routes every service Petrel serves. Services are registered whole: rpcs without a handler answer
// Unimplemented, so nothing pretends to work before it does.
import type { ConnectRouter } from "@connectrpc/connect";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { AuthMetadataService } from "../../gen/flyteidl/service/auth_pb.js";
import { DataProxyService } from "../../gen/flyteidl/service/dataproxy_pb.js";
import { IdentityService } from "../../gen/flyteidl/service/identity_pb.js";
import { SignalService } from "../../gen/flyteidl/service/signal_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { WatchService } from "../../gen/petrel/v1/watch_pb.js";
import { WorkerService } from "../../gen/petrel/v1/worker_pb.js";
import type { AuthMetadata } from "../auth/auth-metadata.js";
import type { WorkerQueue } from "../engine/worker-queue.js";
import type { Managers } from "../managers/managers.js";
import type { WatchManager } from "../managers/watch-manager.js";
import { attributesHandlers } from "./admin/attributes-handlers.js";
import { dataProxyHandlers } from "./admin/data-proxy-handlers.js";
import { executionHandlers } from "./admin/execution-handlers.js";
import { launchPlanHandlers } from "./admin/launch-plan-handlers.js";
import { namedEntityHandlers } from "./admin/named-entity-handlers.js";
import { projectHandlers } from "./admin/project-handlers.js";
import { signalHandlers } from "./admin/signal-handlers.js";
import { systemHandlers } from "./admin/system-handlers.js";
import { taskHandlers } from "./admin/task-handlers.js";
import { workflowHandlers } from "./admin/workflow-handlers.js";
import { authMetadataHandlers, identityHandlers } from "./auth/auth-handlers.js";
import { type HealthState, registerHealth } from "./health.js";
import { watchHandlers } from "./petrel/watch-handlers.js";
import { workerHandlers } from "./petrel/worker-handlers.js";
import { registerReflection } from "./reflection.js";

export interface RouteDeps {
  readonly managers: Managers;
  readonly watch: WatchManager;
  readonly workers: WorkerQueue;
  readonly health: HealthState;
  readonly authMetadata: AuthMetadata;
}

export function servedServiceNames(): ReadonlySet<string> {
  return new Set([
    AdminService.typeName,
    SignalService.typeName,
    DataProxyService.typeName,
    WatchService.typeName,
    WorkerService.typeName,
    AuthMetadataService.typeName,
    IdentityService.typeName,
    Health.typeName,
  ]);
}

export function buildRoutes(deps: RouteDeps): (router: ConnectRouter) => void {
  return (router) => {
    router.service(AdminService, {
      ...systemHandlers(),
      ...projectHandlers(deps.managers.projects),
      ...taskHandlers(deps.managers.tasks),
      ...workflowHandlers(deps.managers.workflows),
      ...launchPlanHandlers(deps.managers.launchPlans),
      ...namedEntityHandlers(deps.managers.namedEntities),
      ...attributesHandlers(deps.managers.attributes),
      ...executionHandlers(deps.managers),
    });
    router.service(SignalService, signalHandlers(deps.managers.signals));
    router.service(DataProxyService, dataProxyHandlers(deps.managers.dataProxy));
    router.service(WatchService, watchHandlers(deps.watch));
    router.service(WorkerService, workerHandlers(deps.workers));
    router.service(AuthMetadataService, authMetadataHandlers(deps.authMetadata));
    router.service(IdentityService, identityHandlers(deps.authMetadata));
    registerHealth(router, deps.health);
    registerReflection(router);
  };
}
