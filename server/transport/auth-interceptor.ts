// Authentication and per-project authorization of every rpc, on both ports and both gRPC stacks (Connect's and the
// direct path, which run the same interceptors). The principal goes into the call's context values.
import type { DescMessage, Message } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import type { Authenticator } from "../auth/authenticator.js";
import { type AuthzRule, deniedMessage, isAllowed, type Permission } from "../auth/authz-rules.js";
import { PRINCIPAL, type Principal } from "../auth/principal.js";
import { accessOf, projectOf } from "../auth/rpc-permissions.js";
import { AppError, Code } from "../errors.js";

/** The bearer token: `authorization`, or `flyte-authorization` as flytekit may send it. */
const tokenHeader = (h: Headers): string | null => h.get("authorization") ?? h.get("flyte-authorization");

export function authInterceptor(auth: Authenticator, rules: readonly AuthzRule[] | undefined): Interceptor {
  const check = (p: Principal, permission: Permission, desc: DescMessage, message: Message) => {
    if (rules === undefined) return;
    const project = projectOf(desc, message);
    if (!isAllowed(rules, p.name, permission, project)) {
      throw new AppError(Code.PermissionDenied, deniedMessage(p.name, permission, project));
    }
  };
  return (next) => async (req) => {
    const access = accessOf(req.method);
    if (access.kind === "public") return next(req);
    const principal = await auth.authenticate(tokenHeader(req.header));
    req.contextValues.set(PRINCIPAL, principal);
    if (access.kind === "authenticated") {
      const res = await next(req);
      // ListProjects names no project to check: it lists only those the principal may read.
      if (rules !== undefined && !res.stream && req.method.name === "ListProjects") {
        const list = res.message as Message & { projects?: { id: string }[] };
        if (list.projects !== undefined)
          list.projects = list.projects.filter((p) => isAllowed(rules, principal.name, "read", p.id));
      }
      return res;
    }
    const input = req.method.input;
    if (!req.stream) {
      check(principal, access.permission, input, req.message);
      return next(req);
    }
    // Streaming requests are checked message by message, as the handler reads them.
    const messages = req.message;
    return next({
      ...req,
      message: (async function* () {
        for await (const m of messages) {
          check(principal, access.permission, input, m);
          yield m;
        }
      })(),
    });
  };
}
