// The secrets a task asks for through its security context (flyteidl core.Secret: group, group_version, key,
// mount_requirement), taken from the configured source and given to the task by name, and only those: as flytekit's
// SecretsManager reads them (flytekit core/context_manager.py), an environment variable `_FSEC_<GROUP>[_<VERSION>]_<KEY>`
// (upper case; ANY and ENV_VAR) or a file `<FLYTE_SECRETS_DEFAULT_DIR>/<group>[/<version>]/<key>` (lower case; FILE).
// Sources, in order: files `<dir>/<group>[/<version>]/<key>` (read when the attempt starts, so rotated files are
// seen), then the server's variables `<PREFIX><GROUP>[_<VERSION>]_<KEY>` captured by configuration. A secret that is
// asked for but in neither is the attempt's permanent failure, naming the secret (never a value).
import fs from "node:fs";
import path from "node:path";
import { type Secret, Secret_MountType } from "../../gen/flyteidl/core/security_pb.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks_pb.js";
import type { SecretsFromEnv } from "../config-secrets.js";

/** flytekit's default SECRETS_ENV_PREFIX. */
export const TASK_SECRET_ENV_PREFIX = "_FSEC_";

/** Where the secrets tasks ask for come from (config `--secrets-dir`, `--secrets-env-prefix`); none by default. */
export interface SecretSource {
  readonly dir?: string | undefined;
  readonly env?: SecretsFromEnv | undefined;
}

export interface TaskSecrets {
  /** Variables for the task's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Files for the task's secrets directory, by path relative to it. */
  readonly files: Readonly<Record<string, string>>;
}

export class SecretError extends Error {
  override readonly name = "SecretError";
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** The secret as flytekit and the operator name it: `group[/version]/key`. */
const describe = (parts: readonly string[]) => parts.join("/");

function partsOf(s: Secret): string[] {
  const parts = [s.group, s.groupVersion, s.key].filter((p) => p !== "");
  if (s.group === "" || parts.some((p) => !NAME.test(p) || p === "." || p === "..")) {
    throw new SecretError(
      `invalid secret name "${describe(parts)}": the group is required, and group, version and key may only hold ` +
        "letters, digits, '_', '-' and '.'",
    );
  }
  return parts;
}

function lookUp(parts: readonly string[], source: SecretSource): string | undefined {
  if (source.dir !== undefined) {
    try {
      return fs.readFileSync(path.join(source.dir, ...parts), "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") throw new SecretError(`secret "${describe(parts)}" cannot be read (${code})`);
    }
  }
  return source.env?.values[parts.map((p) => p.toUpperCase()).join("_")];
}

/** Where the configured source would hold the secret (for the error message). */
function whereLooked(parts: readonly string[], source: SecretSource): string {
  const places = [
    ...(source.dir === undefined ? [] : [`file ${path.join(source.dir, ...parts)}`]),
    ...(source.env === undefined
      ? []
      : [`variable ${source.env.prefix}${parts.map((p) => p.toUpperCase()).join("_")}`]),
  ];
  return places.length === 0
    ? "no secret source is configured (--secrets-dir, --secrets-env-prefix)"
    : places.join(" or ");
}

/** The secrets the task asks for, from the source; throws SecretError naming one that is missing or badly named. */
export function taskSecrets(template: TaskTemplate, source: SecretSource): TaskSecrets {
  const env: Record<string, string> = {};
  const files: Record<string, string> = {};
  for (const s of template.securityContext?.secrets ?? []) {
    const parts = partsOf(s);
    const value = lookUp(parts, source);
    if (value === undefined) {
      throw new SecretError(
        `secret "${describe(parts)}" is not configured: looked for ${whereLooked(parts, source)}`,
      );
    }
    if (s.mountRequirement === Secret_MountType.FILE)
      files[path.join(...parts.map((p) => p.toLowerCase()))] = value;
    else env[`${TASK_SECRET_ENV_PREFIX}${parts.map((p) => p.toUpperCase()).join("_")}`] = value;
  }
  if (Object.keys(env).length > 0 || Object.keys(files).length > 0) {
    env.FLYTE_SECRETS_ENV_PREFIX = TASK_SECRET_ENV_PREFIX;
  }
  return { env, files };
}

/**
 * Writes the secret files under `dir`: readable by the owner only, or by anyone (`shared`) for a container whose user
 * may not be the server's (the directory is the attempt's own and is removed with it).
 */
export function writeSecretFiles(dir: string, files: Readonly<Record<string, string>>, shared = false): void {
  for (const [rel, value] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: shared ? 0o755 : 0o700 });
    fs.writeFileSync(file, value, { mode: shared ? 0o644 : 0o600 });
  }
}
