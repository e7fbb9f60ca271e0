// AuthMetadataService (served without a token) and IdentityService.UserInfo (the authenticated caller).
import type { ServiceImpl } from "@connectrpc/connect";
import type { AuthMetadataService } from "../../../gen/flyteidl/service/auth_pb.js";
import type { IdentityService } from "../../../gen/flyteidl/service/identity_pb.js";
import type { AuthMetadata } from "../../auth/auth-metadata.js";
import { PRINCIPAL } from "../../auth/principal.js";

export function authMetadataHandlers(m: AuthMetadata): ServiceImpl<typeof AuthMetadataService> {
  return {
    getOAuth2Metadata: () => m.oauth2Metadata(),
    getPublicClientConfig: () => m.publicClientConfig(),
  };
}

export function identityHandlers(m: AuthMetadata): ServiceImpl<typeof IdentityService> {
  return { userInfo: (_req, ctx) => m.userInfo(ctx.values.get(PRINCIPAL)) };
}
