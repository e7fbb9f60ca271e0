// Who made a call, as the auth interceptor established it; handlers read it from the call's context values.
import { createContextKey, type HandlerContext } from "@connectrpc/connect";

export interface Principal {
  /** The API key's name, or the JWT's `sub`. */
  readonly name: string;
  readonly kind: "api-key" | "oidc";
  /** The JWT's claims (empty for an API key). */
  readonly claims: Readonly<Record<string, unknown>>;
}

export const PRINCIPAL = createContextKey<Principal | undefined>(undefined, { description: "principal" });

/** The caller's name, or "" when authentication is off. */
export const principalName = (ctx: HandlerContext): string => ctx.values.get(PRINCIPAL)?.name ?? "";
