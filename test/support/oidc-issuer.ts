// A local OIDC issuer for tests: discovery document and JWKS over HTTP, and JWTs signed with its jose-generated key.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";

export interface TestIssuer {
  readonly url: string;
  /** A JWT for `sub`; `expiresIn` as jose takes it (e.g. "5m", or a past date's seconds for an expired one). */
  sign(sub: string, opts?: { audience?: string; expiresAt?: number; claims?: JWTPayload }): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "test-key", alg: "RS256", use: "sig" };
  let url = "";
  const server = http.createServer((req, res) => {
    const body =
      req.url === "/.well-known/openid-configuration"
        ? {
            issuer: url,
            jwks_uri: `${url}/jwks`,
            authorization_endpoint: `${url}/authorize`,
            token_endpoint: `${url}/token`,
            scopes_supported: ["openid", "offline_access"],
            grant_types_supported: ["authorization_code", "client_credentials"],
            code_challenge_methods_supported: ["S256"],
            response_types_supported: ["code"],
          }
        : req.url === "/jwks"
          ? { keys: [jwk] }
          : undefined;
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    sign(sub, opts = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ ...opts.claims })
        .setProtectedHeader({ alg: "RS256", kid: "test-key" })
        .setSubject(sub)
        .setIssuer(url)
        .setAudience(opts.audience ?? "petrel")
        .setIssuedAt(now - 60)
        .setExpirationTime(opts.expiresAt ?? now + 300)
        .sign(privateKey);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
