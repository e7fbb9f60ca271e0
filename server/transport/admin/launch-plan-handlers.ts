// Launch plans.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  LaunchPlanCreateResponseSchema,
  LaunchPlanUpdateResponseSchema,
} from "../../../gen/flyteidl/admin/launch_plan_pb.js";
import type { AdminService } from "../../../gen/flyteidl/service/admin_pb.js";
import type { LaunchPlanManager } from "../../managers/launch-plan-manager.js";

export function launchPlanHandlers(lps: LaunchPlanManager): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async createLaunchPlan(req) {
      await lps.createLaunchPlan(req);
      return create(LaunchPlanCreateResponseSchema);
    },
    async updateLaunchPlan(req) {
      await lps.updateLaunchPlan(req);
      return create(LaunchPlanUpdateResponseSchema);
    },
    getLaunchPlan: (req) => lps.getLaunchPlan(req),
    getActiveLaunchPlan: (req) => lps.getActiveLaunchPlan(req),
    listLaunchPlans: (req) => lps.listLaunchPlans(req),
    listActiveLaunchPlans: (req) => lps.listActiveLaunchPlans(req),
    listLaunchPlanIds: (req) => lps.listLaunchPlanIds(req),
  };
}
