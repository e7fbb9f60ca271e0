// GetVersion: answered from the build.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { GetVersionResponseSchema, VersionSchema } from "../../../gen/flyteidl/admin/version_pb.js";
import type { AdminService } from "../../../gen/flyteidl/service/admin_pb.js";
import { BUILD_INFO } from "../../build-info.js";

export function systemHandlers(): Partial<ServiceImpl<typeof AdminService>> {
  const version = create(GetVersionResponseSchema, {
    controlPlaneVersion: create(VersionSchema, {
      Build: BUILD_INFO.build,
      Version: BUILD_INFO.version,
      BuildTime: BUILD_INFO.buildTime,
    }),
  });
  return { getVersion: () => version };
}
