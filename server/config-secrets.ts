// Where the secrets tasks ask for come from (a task's security_context.secrets): files under a directory
// (`<dir>/<group>/<key>`) and/or the server's environment variables with a prefix (`<PREFIX><GROUP>_<KEY>`). The
// variables are read once here (only configuration reads the environment); files are read when an attempt starts.
import fs from "node:fs";
import path from "node:path";

export interface SecretsFromEnv {
  readonly prefix: string;
  /** The prefixed variables, by the rest of their name (`<GROUP>_<KEY>`). */
  readonly values: Readonly<Record<string, string>>;
}

export interface SecretsConfig {
  /** Secrets as files `<dir>/<group>/<key>` (`<dir>/<group>/<group_version>/<key>` with a version). */
  readonly secretsDir: string | undefined;
  /** Secrets as the server's variables `<prefix><GROUP>_<KEY>`. */
  readonly secretsEnv: SecretsFromEnv | undefined;
}

type Read = (key: keyof SecretsConfig) => { value: string; source: string } | undefined;

export function readSecretSettings(
  read: Read,
  env: NodeJS.ProcessEnv,
  cwd: string,
  problems: string[],
): SecretsConfig {
  const dir = read("secretsDir");
  const prefix = read("secretsEnv");
  let secretsDir: string | undefined;
  if (dir !== undefined) {
    secretsDir = path.resolve(cwd, dir.value);
    if (!fs.statSync(secretsDir, { throwIfNoEntry: false })?.isDirectory()) {
      problems.push(`${dir.source}: "${secretsDir}" is not a directory`);
    }
  }
  if (prefix !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix.value)) {
    problems.push(
      `${prefix.source}: "${prefix.value}" must be the start of a variable name ([A-Za-z_][A-Za-z0-9_]*)`,
    );
  }
  const values: Record<string, string> = {};
  if (prefix !== undefined) {
    for (const [name, value] of Object.entries(env)) {
      if (name.startsWith(prefix.value) && value !== undefined)
        values[name.slice(prefix.value.length)] = value;
    }
  }
  return {
    secretsDir,
    secretsEnv:
      prefix === undefined
        ? undefined
        : Object.freeze({ prefix: prefix.value, values: Object.freeze(values) }),
  };
}
