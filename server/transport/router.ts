// Routes every service Petrel serves. Services are registered whole: rpcs without a handler answer
// Unimplemented, so nothing pretends to work before it does.
import type { ConnectRouter } from "@connectrpc/connect";
import type { Knex } from "knex";
import { DataProxyService } from "../../gen/flyteidl/service/dataproxy_pb.js";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { SignalService } from "../../gen/flyteidl/service/signal_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import type { PetrelConfig } from "../config.js";
import { systemHandlers } from "./admin/system-handlers.js";
import { type HealthState, registerHealth } from "./health.js";

export interface RouteDeps {
  readonly config: PetrelConfig;
  readonly db: Knex;
  readonly health: HealthState;
}

export function servedServiceNames(): ReadonlySet<string> {
  return new Set([AdminService.typeName, SignalService.typeName, DataProxyService.typeName, Health.typeName]);
}

export function buildRoutes(deps: RouteDeps): (router: ConnectRouter) => void {
  return (router) => {
    router.service(AdminService, {
      ...systemHandlers(deps.config),
    });
    router.service(SignalService, {});
    router.service(DataProxyService, {});
    registerHealth(router, deps.health);
  };
}
