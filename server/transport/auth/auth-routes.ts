// The HTTP routes FlyteAdmin serves for auth discovery, and the guard that puts the HTTP port's own routes under
// the same bearer-token rule as the rpcs.
import type http from "node:http";
import { toJsonString } from "@bufbuild/protobuf";
import {
  OAuth2MetadataResponseSchema,
  PublicClientAuthConfigResponseSchema,
} from "../../../gen/flyteidl/service/auth_pb.js";
import type { AuthMetadata } from "../../auth/auth-metadata.js";
import type { Authenticator } from "../../auth/authenticator.js";
import { AppError, Code } from "../../errors.js";
import type { HttpRoute } from "../http-routes.js";

const JSON_OPTIONS = { useProtoFieldName: true, alwaysEmitImplicit: true } as const;

const pathOf = (req: http.IncomingMessage): string => req.url?.split("?", 1)[0] ?? "";

function answerJson(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json" }).end(body);
}

/** `/.well-known/oauth-authorization-server` and `/config/v1/flyte_client`, as grpc-gateway writes them. */
export function authMetadataRoutes(m: AuthMetadata): HttpRoute {
  return (req, res) => {
    if (req.method !== "GET") return false;
    const p = pathOf(req);
    if (p === "/config/v1/flyte_client") {
      answerJson(
        res,
        200,
        toJsonString(PublicClientAuthConfigResponseSchema, m.publicClientConfig(), JSON_OPTIONS),
      );
      return true;
    }
    if (p !== "/.well-known/oauth-authorization-server") return false;
    return m.oauth2Metadata().then((r) => {
      answerJson(res, 200, toJsonString(OAuth2MetadataResponseSchema, r, JSON_OPTIONS));
    });
  };
}

/**
 * Runs `route` only for callers with a valid bearer token, on the paths `guarded` names (the REST gateway and task
 * logs under /api/); other paths pass through untouched (rpcs are checked by the auth interceptor).
 */
export function requireToken(
  auth: Authenticator,
  guarded: (path: string) => boolean,
  route: HttpRoute,
): HttpRoute {
  return (req, res) => {
    if (!guarded(pathOf(req))) return route(req, res);
    const header = req.headers.authorization ?? req.headers["flyte-authorization"];
    return auth.authenticate(typeof header === "string" ? header : null).then(
      async () => {
        const served = route(req, res);
        if (served === false) res.writeHead(404).end();
        else if (served !== true) await served;
      },
      (err: unknown) => {
        const message = err instanceof AppError ? err.message : "authentication failed";
        const status = err instanceof AppError && err.code === Code.Unavailable ? 503 : 401;
        res
          .writeHead(status, { "content-type": "text/plain", "www-authenticate": "Bearer" })
          .end(`${message}\n`);
      },
    );
  };
}
