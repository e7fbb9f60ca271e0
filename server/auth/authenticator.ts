// Bearer tokens → principals: static API keys (by sha256) and OIDC JWTs verified against the issuer's JWKS.
import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import type { AuthConfig } from "../config-auth.js";
import { AppError, Code, unavailable } from "../errors.js";
import { matchApiKey } from "./api-keys.js";
import type { Principal } from "./principal.js";

const unauthenticated = (message: string) => new AppError(Code.Unauthenticated, message);

/** The issuer's OpenID discovery document (RFC 8414 fields), fetched once. */
export type IssuerMetadata = Readonly<Record<string, unknown>>;

export class Authenticator {
  private metadata: Promise<IssuerMetadata> | undefined;
  private keys: JWTVerifyGetKey | undefined;

  constructor(private readonly config: AuthConfig) {}

  /** The principal a `Bearer` header value stands for; UNAUTHENTICATED when missing, unknown, invalid or expired. */
  async authenticate(header: string | null): Promise<Principal> {
    if (header === null || header.trim() === "") {
      throw unauthenticated("missing bearer token: send the header authorization: Bearer <token>");
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (m === null) throw unauthenticated("the authorization header must be Bearer <token>");
    const token = m[1] as string;
    const key = matchApiKey(this.config.apiKeys, token);
    if (key !== undefined) return { name: key, kind: "api-key", claims: {} };
    if (this.config.oidcIssuer === undefined || !/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)) {
      throw unauthenticated("invalid bearer token: not a known API key");
    }
    return this.verifyJwt(token);
  }

  /** The issuer's metadata from `<issuer>/.well-known/openid-configuration`; a failure is retried next time. */
  issuerMetadata(): Promise<IssuerMetadata> {
    const issuer = this.config.oidcIssuer;
    if (issuer === undefined) return Promise.resolve({});
    this.metadata ??= (async () => {
      const url = `${issuer}/.well-known/openid-configuration`;
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`${url} answered ${res.status}`);
      return (await res.json()) as IssuerMetadata;
    })().catch((err: unknown) => {
      this.metadata = undefined;
      throw unavailable("cannot reach the OIDC issuer to verify the token", err);
    });
    return this.metadata;
  }

  private async jwks(): Promise<JWTVerifyGetKey> {
    if (this.keys !== undefined) return this.keys;
    const meta = await this.issuerMetadata();
    const uri =
      typeof meta.jwks_uri === "string" ? meta.jwks_uri : `${this.config.oidcIssuer}/.well-known/jwks.json`;
    this.keys = createRemoteJWKSet(new URL(uri));
    return this.keys;
  }

  private async verifyJwt(token: string): Promise<Principal> {
    const keys = await this.jwks();
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: this.config.oidcIssuer as string,
        audience: this.config.oidcAudience as string,
      });
      if (typeof payload.sub !== "string" || payload.sub === "") {
        throw unauthenticated('invalid bearer token: the JWT has no "sub" claim');
      }
      return { name: payload.sub, kind: "oidc", claims: payload };
    } catch (err) {
      throw jwtFailure(err);
    }
  }
}

function jwtFailure(err: unknown): unknown {
  if (err instanceof AppError) return err;
  if (err instanceof errors.JWTExpired) return unauthenticated("invalid bearer token: the JWT has expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    return unauthenticated(
      `invalid bearer token: the JWT's "${err.claim}" claim is not accepted (${err.reason})`,
    );
  }
  if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) {
    return unavailable("cannot fetch the OIDC issuer's keys to verify the token", err);
  }
  return unauthenticated(`invalid bearer token: ${(err as Error).message}`);
}
