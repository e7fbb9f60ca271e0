// Per-project authorization rules: which principals may read, write (register, execute, steer) or administer
// which projects. Pure: parsing and checking, no I/O. `admin` includes `write`, which includes `read`.

export type Permission = "read" | "write" | "admin";

export const PERMISSIONS: readonly Permission[] = ["read", "write", "admin"];

export interface AuthzRule {
  /** A principal name, or a glob over names (`*` matches any run of characters). */
  readonly principal: string;
  readonly permission: Permission;
  /** A project id, or a glob over ids. */
  readonly projects: string;
}

const RANK: Readonly<Record<Permission, number>> = { read: 1, write: 2, admin: 3 };

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`);
}

const matches = (glob: string, value: string): boolean => glob === "*" || globToRegExp(glob).test(value);

/**
 * `PRINCIPAL:PERMISSION:PROJECTS` entries separated by commas or new lines, e.g.
 * `alice:write:flytesnacks, ci-*:read:*, ops:admin:*`. The principal may itself contain colons (a URL subject):
 * the last two fields are the permission and the project glob.
 */
export function parseAuthzRules(text: string, source: string, problems: string[]): AuthzRule[] {
  const rules: AuthzRule[] = [];
  for (const raw of text.split(/[,\n]/)) {
    const entry = raw.trim();
    if (entry === "" || entry.startsWith("#")) continue;
    const parts = entry.split(":");
    const projects = parts.pop()?.trim() ?? "";
    const permission = parts.pop()?.trim() ?? "";
    const principal = parts.join(":").trim();
    if (principal === "" || projects === "" || !(PERMISSIONS as readonly string[]).includes(permission)) {
      problems.push(
        `${source}: "${entry}" is not PRINCIPAL:PERMISSION:PROJECTS (permission one of ${PERMISSIONS.join(", ")})`,
      );
      continue;
    }
    rules.push({ principal, permission: permission as Permission, projects });
  }
  return rules;
}

/** Whether any rule gives `principal` at least `needed` on `project` (undefined: on every project, a `*` rule). */
export function isAllowed(
  rules: readonly AuthzRule[],
  principal: string,
  needed: Permission,
  project: string | undefined,
): boolean {
  return rules.some(
    (r) =>
      RANK[r.permission] >= RANK[needed] &&
      matches(r.principal, principal) &&
      (project === undefined ? r.projects === "*" : matches(r.projects, project)),
  );
}

/** The PERMISSION_DENIED text: who, what and where. */
export function deniedMessage(principal: string, needed: Permission, project: string | undefined): string {
  const where = project === undefined ? "all projects" : `project "${project}"`;
  return `principal "${principal}" lacks ${needed} permission on ${where}`;
}
