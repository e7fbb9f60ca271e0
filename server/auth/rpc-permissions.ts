// What each rpc needs: nothing (health, version, auth metadata, reflection), a principal only, or a permission on
// the project its request names. Pure: from the method descriptor and the request message.
import type { DescMessage, DescMethod, Message } from "@bufbuild/protobuf";
import type { Permission } from "./authz-rules.js";

/** Services anyone may call, authenticated or not. */
const PUBLIC_SERVICES: ReadonlySet<string> = new Set([
  "grpc.health.v1.Health",
  "flyteidl.service.AuthMetadataService",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);
const PUBLIC_METHODS: ReadonlySet<string> = new Set(["flyteidl.service.AdminService/GetVersion"]);

/** Calls any authenticated principal may make: they name no project (ListProjects lists those it may read). */
const ANY_PRINCIPAL: ReadonlySet<string> = new Set([
  "flyteidl.service.AdminService/ListProjects",
  "flyteidl.service.AdminService/GetDomains",
  "flyteidl.service.IdentityService/UserInfo",
]);

const ADMIN = /^(RegisterProject|UpdateProject|(Update|Delete)\w*Attributes)$/;
const READ = /^(Get(?!OrCreate)|List|Watch)|^CreateDownload(Location|Link)$/;

export type RpcAccess =
  | { readonly kind: "public" }
  | { readonly kind: "authenticated" }
  | { readonly kind: "project"; readonly permission: Permission };

export function accessOf(method: DescMethod): RpcAccess {
  const service = method.parent.typeName;
  const full = `${service}/${method.name}`;
  if (PUBLIC_SERVICES.has(service) || PUBLIC_METHODS.has(full)) return { kind: "public" };
  if (ANY_PRINCIPAL.has(full)) return { kind: "authenticated" };
  if (ADMIN.test(method.name)) return { kind: "project", permission: "admin" };
  return { kind: "project", permission: READ.test(method.name) ? "read" : "write" };
}

const PROJECT_MESSAGES: ReadonlySet<string> = new Set([
  "flyteidl.admin.Project",
  "flyteidl.admin.ProjectGetRequest",
]);
const MAX_DEPTH = 5;

/**
 * The project a request is about: its first `project` string field, looking through nested messages (ids, events,
 * attributes) breadth-first; a Project's (or ProjectGetRequest's) `id`. Undefined when it names none.
 */
export function projectOf(desc: DescMessage, message: Message): string | undefined {
  let level: Array<[DescMessage, Record<string, unknown>]> = [[desc, message as never]];
  for (let depth = 0; depth < MAX_DEPTH && level.length > 0; depth++) {
    const next: Array<[DescMessage, Record<string, unknown>]> = [];
    for (const [d, m] of level) {
      if (PROJECT_MESSAGES.has(d.typeName) && typeof m.id === "string" && m.id !== "") return m.id;
      for (const f of d.fields) {
        const value = f.oneof === undefined ? m[f.localName] : oneofValue(m[f.oneof.localName], f.localName);
        if (f.fieldKind === "scalar" && f.name === "project" && typeof value === "string" && value !== "")
          return value;
        if (f.fieldKind === "message" && value !== undefined && value !== null)
          next.push([f.message, value as Record<string, unknown>]);
      }
    }
    level = next;
  }
  return undefined;
}

function oneofValue(group: unknown, localName: string): unknown {
  const g = group as { case?: string; value?: unknown } | undefined;
  return g?.case === localName ? g.value : undefined;
}
