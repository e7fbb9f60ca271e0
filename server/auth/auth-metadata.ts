// What clients learn before (and right after) they authenticate: the OAuth 2 authorization server's metadata,
// the public client settings flytectl / flytekit log in with, and the caller's identity. From configuration and
// the issuer's discovery document.
import { create, type JsonObject } from "@bufbuild/protobuf";
import {
  type OAuth2MetadataResponse,
  OAuth2MetadataResponseSchema,
  type PublicClientAuthConfigResponse,
  PublicClientAuthConfigResponseSchema,
} from "../../gen/flyteidl/service/auth_pb.js";
import { type UserInfoResponse, UserInfoResponseSchema } from "../../gen/flyteidl/service/identity_pb.js";
import type { AuthConfig } from "../config-auth.js";
import type { Authenticator } from "./authenticator.js";
import type { Principal } from "./principal.js";

/** flytectl's and flytekit's default PKCE redirect. */
const DEFAULT_REDIRECT_URI = "http://localhost:53593/callback";
const STANDARD_CLAIMS = [
  "sub",
  "name",
  "preferred_username",
  "given_name",
  "family_name",
  "email",
  "picture",
];

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : [];

export class AuthMetadata {
  constructor(
    private readonly config: AuthConfig & { readonly publicUrl: string | undefined },
    private readonly auth: Authenticator,
  ) {}

  /** RFC 8414 metadata of the configured issuer (empty without one). */
  async oauth2Metadata(): Promise<OAuth2MetadataResponse> {
    if (this.config.oidcIssuer === undefined) return create(OAuth2MetadataResponseSchema);
    const m = await this.auth.issuerMetadata();
    return create(OAuth2MetadataResponseSchema, {
      issuer: str(m.issuer) || this.config.oidcIssuer,
      authorizationEndpoint: str(m.authorization_endpoint),
      tokenEndpoint: str(m.token_endpoint),
      responseTypesSupported: strings(m.response_types_supported),
      scopesSupported: strings(m.scopes_supported),
      tokenEndpointAuthMethodsSupported: strings(m.token_endpoint_auth_methods_supported),
      jwksUri: str(m.jwks_uri),
      codeChallengeMethodsSupported: strings(m.code_challenge_methods_supported),
      grantTypesSupported: strings(m.grant_types_supported),
      deviceAuthorizationEndpoint: str(m.device_authorization_endpoint),
    });
  }

  publicClientConfig(): PublicClientAuthConfigResponse {
    return create(PublicClientAuthConfigResponseSchema, {
      clientId: this.config.oidcClientId,
      redirectUri: DEFAULT_REDIRECT_URI,
      scopes: [...this.config.oidcScopes],
      authorizationMetadataKey: "authorization",
      serviceHttpEndpoint: this.config.publicUrl ?? "",
      audience: this.config.oidcAudience ?? "",
    });
  }

  /** The caller's standard claims; the others under additional_claims. */
  userInfo(principal: Principal | undefined): UserInfoResponse {
    const c = principal?.claims ?? {};
    const additional = Object.fromEntries(
      Object.entries(c).filter(([k, v]) => !STANDARD_CLAIMS.includes(k) && v !== undefined),
    ) as JsonObject;
    return create(UserInfoResponseSchema, {
      subject: principal?.name ?? "",
      name: str(c.name) || (principal?.name ?? ""),
      preferredUsername: str(c.preferred_username),
      givenName: str(c.given_name),
      familyName: str(c.family_name),
      email: str(c.email),
      picture: str(c.picture),
      ...(Object.keys(additional).length === 0 ? {} : { additionalClaims: additional }),
    });
  }
}
