// GetVersion and GetDomains: answered from the build and the configuration.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { DomainSchema, GetDomainsResponseSchema } from "../../../gen/flyteidl/admin/project_pb.js";
import { GetVersionResponseSchema, VersionSchema } from "../../../gen/flyteidl/admin/version_pb.js";
import type { AdminService } from "../../../gen/flyteidl/service/admin_pb.js";
import { BUILD_INFO } from "../../build-info.js";
import type { PetrelConfig } from "../../config.js";

export function systemHandlers(config: PetrelConfig): Partial<ServiceImpl<typeof AdminService>> {
  const domains = create(GetDomainsResponseSchema, {
    domains: config.domains.map((d) => create(DomainSchema, { id: d.id, name: d.name })),
  });
  const version = create(GetVersionResponseSchema, {
    controlPlaneVersion: create(VersionSchema, {
      Build: BUILD_INFO.build,
      Version: BUILD_INFO.version,
      BuildTime: BUILD_INFO.buildTime,
    }),
  });
  return {
    getVersion: () => version,
    getDomains: () => domains,
  };
}
